package jllm.template;

import java.util.List;

/** The syntax tree: expressions ({@link Expr}) and statements ({@link Stmt}), as immutable records. */
final class Node {
    private Node() {
    }

    sealed interface Expr permits Const, Name, ListLit, TupleLit, DictLit, GetAttr, GetItem, Slice, Call, Filter, Test,
            Unary, Binary, Compare, CondExpr, Hole {
    }

    record Const(Object value) implements Expr { }
    record Name(String name, int line) implements Expr { }
    record ListLit(List<Expr> items) implements Expr { }
    record TupleLit(List<Expr> items) implements Expr { }
    record DictLit(List<Expr> keys, List<Expr> values) implements Expr { }
    record GetAttr(Expr obj, String name, int line) implements Expr { }
    record GetItem(Expr obj, Expr key, int line) implements Expr { }
    record Slice(Expr start, Expr stop, Expr step) implements Expr { }
    record Args(List<Expr> positional, List<String> kwNames, List<Expr> kwValues, Expr star, Expr doubleStar) {
        static final Args NONE = new Args(List.of(), List.of(), List.of(), null, null);
    }
    record Call(Expr fn, Args args, int line) implements Expr { }
    record Filter(Expr value, String name, Args args, int line) implements Expr { }
    record Test(Expr value, String name, Args args, int line) implements Expr { }
    record Unary(String op, Expr operand) implements Expr { }
    record Binary(String op, Expr left, Expr right, int line) implements Expr { }
    record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr { }
    record CondExpr(Expr test, Expr then, Expr otherwise) implements Expr { }
    /** The value a filter block or a filtered set block feeds to its filter chain. */
    record Hole() implements Expr { }

    sealed interface Target permits NameTarget, TupleTarget, AttrTarget { }
    record NameTarget(String name) implements Target { }
    record TupleTarget(List<Target> items) implements Target { }
    record AttrTarget(String name, String attr) implements Target { }

    sealed interface Stmt permits Text, Output, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, Break, Continue, With,
            Block {
    }

    record Text(String text) implements Stmt { }
    record Output(Expr expr) implements Stmt { }
    record If(List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> otherwise) implements Stmt { }
    record For(Target target, Expr iter, Expr filter, boolean recursive, List<Stmt> body, List<Stmt> otherwise, int line)
            implements Stmt { }
    record Set(Target target, Expr value) implements Stmt { }
    /** {@code filter} is an expression over {@link Hole}, or null. */
    record SetBlock(Target target, Expr filter, List<Stmt> body) implements Stmt { }
    record Param(String name, Expr defaultValue) { }
    record Macro(String name, List<Param> params, List<Stmt> body, boolean usesVarargs, boolean usesKwargs, boolean usesCaller)
            implements Stmt { }
    record CallBlock(Call call, Macro caller) implements Stmt { }
    record FilterBlock(Expr filter, List<Stmt> body) implements Stmt { }
    record Break() implements Stmt { }
    record Continue() implements Stmt { }
    record With(List<Target> targets, List<Expr> values, List<Stmt> body) implements Stmt { }
    /** A plain sequence of statements without a scope of its own (transformers' {@code generation} tag). */
    record Block(List<Stmt> body) implements Stmt { }
}
