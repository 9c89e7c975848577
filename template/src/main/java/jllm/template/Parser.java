package jllm.template;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jllm.template.Node.*;
import jllm.template.Token.Type;

/** Recursive-descent parser following jinja2's grammar and operator precedence. */
final class Parser {
    private final List<Token> tokens;
    private final int maxNesting;
    private int pos;
    private int nesting;
    /**
     * Unknown filters/tests seen so far. jinja2 rejects them at compile time unless they sit directly in
     * an if statement or a conditional expression ("soft" frames), where they fail only when reached.
     */
    private final List<boolean[]> unknownSoft = new ArrayList<>();
    private final List<String> unknownMsg = new ArrayList<>();
    private boolean soft;

    /** Names referenced inside each macro being parsed: jinja2 enables varargs/kwargs/caller only when used. */
    private final Deque<Set<String>> names = new ArrayDeque<>();

    private Parser(List<Token> tokens, int maxNesting) {
        this.tokens = tokens;
        this.maxNesting = maxNesting;
        names.push(new HashSet<>());
    }

    static List<Stmt> parse(String source, Limits limits) {
        Parser p = new Parser(Lexer.tokenize(source), limits.maxNesting());
        List<Stmt> body = p.statements(Set.of());
        if (p.peek().type() != Type.EOF) throw p.error("unexpected '" + p.peekTagName() + "'");
        for (int i = 0; i < p.unknownSoft.size(); i++) {
            if (!p.unknownSoft.get(i)[0]) throw new TemplateException("TemplateAssertionError", p.unknownMsg.get(i));
        }
        return body;
    }

    // ---- token helpers -------------------------------------------------------------------------

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.type() != Type.EOF) pos++;
        return t;
    }

    private TemplateException error(String msg) {
        return TemplateException.syntax(msg, peek().line());
    }

    private String describe(Token t) {
        return switch (t.type()) {
            case EOF -> "end of template";
            case VAR_END -> "end of print statement";
            case BLOCK_END -> "end of statement block";
            case STRING -> "string " + shorten(Py.repr(t.value()));
            default -> "'" + shorten(t.text()) + "'";
        };
    }

    /** Keeps error messages on one short line whatever the offending token holds. */
    private static String shorten(String s) {
        String one = s.replace("\n", "\\n").replace("\r", "\\r");
        return one.length() > 40 ? one.substring(0, 37) + "..." : one;
    }

    private Token expect(Type type, String value) {
        Token t = peek();
        if (t.type() != type || (value != null && !value.equals(t.value())))
            throw error("expected " + (value != null ? "'" + value + "'" : switch (type) {
                case VAR_END -> "'}}'";
                case BLOCK_END -> "'%}'";
                case NAME -> "a name";
                default -> type.name().toLowerCase();
            }) + ", got " + describe(t));
        return next();
    }

    private boolean skipOp(String op) {
        if (peek().isOp(op)) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean skipName(String n) {
        if (peek().isName(n)) {
            pos++;
            return true;
        }
        return false;
    }

    private String peekTagName() {
        return peek(1).text();
    }

    private void enter() {
        if (++nesting > maxNesting) throw error("template nesting deeper than " + maxNesting);
    }

    private <T> T withSoft(boolean value, java.util.function.Supplier<T> f) {
        boolean saved = soft;
        soft = value;
        try {
            return f.get();
        } finally {
            soft = saved;
        }
    }

    private void unknown(String kind, String name) {
        unknownSoft.add(new boolean[]{soft});
        unknownMsg.add("No " + kind + " named " + Py.repr(name) + ".");
    }

    // ---- statements ----------------------------------------------------------------------------

    /** Parses statements until a block tag whose name is in {@code ends} (left unconsumed) or EOF. */
    private List<Stmt> statements(Set<String> ends) {
        enter();
        List<Stmt> out = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.type()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw error("unexpected end of template, expected one of " + new java.util.TreeSet<>(ends));
                    nesting--;
                    return out;
                }
                case TEXT -> out.add(new Text((String) next().value()));
                case VAR_BEGIN -> {
                    next();
                    out.add(new Output(tuple(true)));
                    expect(Type.VAR_END, null);
                }
                case BLOCK_BEGIN -> {
                    Token name = peek(1);
                    if (name.type() != Type.NAME) throw TemplateException.syntax("tag name expected", name.line());
                    if (ends.contains(name.text())) {
                        nesting--;
                        return out;
                    }
                    if (name.text().startsWith("end") || name.text().equals("else") || name.text().equals("elif"))
                        throw TemplateException.syntax("unexpected '" + name.text() + "'"
                                + (ends.isEmpty() ? "" : ", expected one of " + new java.util.TreeSet<>(ends)), name.line());
                    next();
                    out.add(statement());
                }
                default -> throw error("unexpected " + describe(t));
            }
        }
    }

    private void endBlock() {
        expect(Type.BLOCK_END, null);
    }

    /** Consumes "{% name" of an expected closing/intermediate tag. */
    private void tagStart(String name) {
        expect(Type.BLOCK_BEGIN, null);
        expect(Type.NAME, name);
    }

    private Stmt statement() {
        Token t = next();
        String kw = t.text();
        return switch (kw) {
            case "if" -> ifStmt();
            case "for" -> forStmt(t.line());
            case "set" -> setStmt();
            case "macro" -> macroStmt();
            case "call" -> callStmt();
            case "filter" -> filterStmt();
            case "with" -> withStmt();
            case "generation" -> {
                endBlock();
                List<Stmt> body = statements(Set.of("endgeneration"));
                tagStart("endgeneration");
                endBlock();
                yield new Block(body);
            }
            case "break", "continue" -> {
                endBlock();
                yield kw.equals("break") ? new Break() : new Continue();
            }
            case "include", "import", "from", "extends", "block" ->
                    throw TemplateException.syntax("'" + kw + "' is not supported in chat templates", t.line());
            default -> throw TemplateException.syntax("unknown tag '" + kw + "'", t.line());
        };
    }

    private Stmt ifStmt() {
        return withSoft(true, this::ifStmtBody);
    }

    private Stmt ifStmtBody() {
        List<Expr> tests = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> otherwise = List.of();
        tests.add(tupleNoCond());
        endBlock();
        Set<String> ends = Set.of("elif", "else", "endif");
        bodies.add(statements(ends));
        while (true) {
            expect(Type.BLOCK_BEGIN, null);
            String tag = next().text();
            if (tag.equals("elif")) {
                tests.add(tupleNoCond());
                endBlock();
                bodies.add(statements(ends));
            } else if (tag.equals("else")) {
                endBlock();
                otherwise = statements(Set.of("endif"));
                tagStart("endif");
                endBlock();
                break;
            } else {
                endBlock();
                break;
            }
        }
        return new If(tests, bodies, otherwise);
    }

    private Stmt forStmt(int line) {
        Target target = assignTarget(true);
        expect(Type.NAME, "in");
        Expr iter = tupleNoCond();
        return withSoft(false, () -> forRest(target, iter, line));
    }

    private Stmt forRest(Target target, Expr iter, int line) {
        Expr filter = null;
        if (skipName("if")) filter = tuple(false);
        boolean recursive = skipName("recursive");
        endBlock();
        List<Stmt> body = statements(Set.of("endfor", "else"));
        List<Stmt> otherwise = List.of();
        expect(Type.BLOCK_BEGIN, null);
        if (next().text().equals("else")) {
            endBlock();
            otherwise = statements(Set.of("endfor"));
            tagStart("endfor");
        }
        endBlock();
        return new For(target, iter, filter, recursive, body, otherwise, line);
    }

    /**
     * jinja2's parse_tuple(with_condexpr=False): the iterable of a for loop (an inline if would clash
     * with the loop filter) and the test of if/elif; a bare comma makes a tuple.
     */
    private Expr tupleNoCond() {
        List<Expr> items = new ArrayList<>();
        boolean comma = false;
        while (true) {
            if (!items.isEmpty()) {
                if (!skipOp(",")) break;
                comma = true;
            }
            if (peek().isName("if") || peek().isName("recursive") || peek().type() == Type.BLOCK_END) break;
            items.add(or());
        }
        if (items.isEmpty()) throw error("expected an expression");
        return comma ? new TupleLit(items) : items.getFirst();
    }

    private Stmt setStmt() {
        Target target = assignTarget(false);
        if (skipOp("=")) {
            Expr value = tuple(true);
            endBlock();
            return new Node.Set(target, value);
        }
        boolean saved = soft;
        soft = false;
        Expr filter = null;
        if (peek().isOp("|")) filter = filterChain(new Hole());
        endBlock();
        List<Stmt> body = statements(Set.of("endset"));
        soft = saved;
        tagStart("endset");
        endBlock();
        return new SetBlock(target, filter, body);
    }

    private Target assignTarget(boolean loopTarget) {
        List<Target> items = new ArrayList<>();
        boolean comma = false;
        do {
            if (!items.isEmpty() && (peek().isName("in") || peek().isOp("=") || peek().isOp(")") || peek().type() == Type.BLOCK_END)) break;
            items.add(targetItem(loopTarget));
        } while (skipOp(",") && (comma = true));
        return comma ? new TupleTarget(items) : items.getFirst();
    }

    private Target targetItem(boolean loopTarget) {
        if (skipOp("(")) {
            enter();
            Target inner = assignTarget(loopTarget);
            expect(Type.OP, ")");
            nesting--;
            return inner;
        }
        String name = expect(Type.NAME, null).text();
        if (!loopTarget && peek().isOp(".")) {
            next();
            return new AttrTarget(name, expect(Type.NAME, null).text());
        }
        if (name.equals("loop") && loopTarget) throw error("can't assign to special loop variable in for-loop target");
        return new NameTarget(name);
    }

    private Stmt macroStmt() {
        return withSoft(false, this::macroBody);
    }

    private Stmt macroBody() {
        String name = expect(Type.NAME, null).text();
        List<Param> params = signature();
        endBlock();
        names.push(new HashSet<>());
        List<Stmt> body = statements(Set.of("endmacro"));
        Set<String> used = names.pop();
        names.peek().addAll(used);
        tagStart("endmacro");
        if (peek().type() == Type.NAME) next(); // jinja2 allows {% endmacro name %}
        endBlock();
        return new Macro(name, params, body, used.contains("varargs"), used.contains("kwargs"), used.contains("caller"));
    }

    private List<Param> signature() {
        List<Param> params = new ArrayList<>();
        expect(Type.OP, "(");
        while (!skipOp(")")) {
            if (!params.isEmpty()) expect(Type.OP, ",");
            if (skipOp(")")) break;
            String p = expect(Type.NAME, null).text();
            Expr def = skipOp("=") ? expression() : null;
            if (def == null && !params.isEmpty() && params.getLast().defaultValue() != null)
                throw error("non-default argument follows default argument");
            params.add(new Param(p, def));
        }
        return params;
    }

    private Stmt callStmt() {
        return withSoft(false, this::callBody);
    }

    private Stmt callBody() {
        List<Param> params = peek().isOp("(") ? signature() : List.of();
        Expr call = expression();
        if (!(call instanceof Call c)) throw error("expected a call");
        endBlock();
        names.push(new HashSet<>());
        List<Stmt> body = statements(Set.of("endcall"));
        Set<String> used = names.pop();
        names.peek().addAll(used);
        tagStart("endcall");
        endBlock();
        return new CallBlock(c, new Macro("caller", params, body, used.contains("varargs"), used.contains("kwargs"), false));
    }

    private Stmt filterStmt() {
        return withSoft(false, this::filterBody);
    }

    private Stmt filterBody() {
        Expr chain = filterChainNoPipe(new Hole());
        endBlock();
        List<Stmt> body = statements(Set.of("endfilter"));
        tagStart("endfilter");
        endBlock();
        return new FilterBlock(chain, body);
    }

    private Stmt withStmt() {
        return withSoft(false, this::withBody);
    }

    private Stmt withBody() {
        List<Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (peek().type() != Type.BLOCK_END) {
            if (!targets.isEmpty()) expect(Type.OP, ",");
            targets.add(assignTarget(true));
            expect(Type.OP, "=");
            values.add(expression());
        }
        endBlock();
        List<Stmt> body = statements(Set.of("endwith"));
        tagStart("endwith");
        endBlock();
        return new With(targets, values, body);
    }

    // ---- expressions ---------------------------------------------------------------------------

    /** A top-level expression: a bare comma makes a tuple, as in {@code {{ a, b }}}. */
    private Expr tuple(boolean allowTuple) {
        Expr first = expression();
        if (!allowTuple || !peek().isOp(",")) return first;
        List<Expr> items = new ArrayList<>(List.of(first));
        while (skipOp(",")) {
            if (peek().type() == Type.VAR_END || peek().type() == Type.BLOCK_END) break;
            items.add(expression());
        }
        return new TupleLit(items);
    }

    Expr expression() {
        int mark = nesting;
        enter();
        int firstUnknown = unknownSoft.size();
        int line = peek().line();
        Expr e = or();
        while (peek().isName("if")) {
            next();
            enter();
            boolean saved = soft;
            soft = true;
            Expr test = or();
            Expr otherwise = skipName("else") ? expression() : null;
            soft = saved;
            for (int i = firstUnknown; i < unknownSoft.size(); i++) unknownSoft.get(i)[0] = true;
            e = new CondExpr(test, e, otherwise, line);
        }
        nesting = mark;
        return e;
    }

    private Expr or() {
        int mark = nesting;
        Expr l = and();
        while (peek().isName("or")) {
            int line = next().line();
            enter();
            l = new Binary("or", l, and(), line);
        }
        nesting = mark;
        return l;
    }

    private Expr and() {
        int mark = nesting;
        Expr l = not();
        while (peek().isName("and")) {
            int line = next().line();
            enter();
            l = new Binary("and", l, not(), line);
        }
        nesting = mark;
        return l;
    }

    private Expr not() {
        if (peek().isName("not")) {
            next();
            enter();
            Expr e = new Unary("not", not());
            nesting--;
            return e;
        }
        return compare();
    }

    private Expr compare() {
        int line = peek().line();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            String op;
            if (t.type() == Type.OP && Set.of("==", "!=", "<", ">", "<=", ">=").contains(t.text())) op = next().text();
            else if (t.isName("in")) {
                next();
                op = "in";
            } else if (t.isName("not") && peek(1).isName("in")) {
                pos += 2;
                op = "not in";
            } else break;
            ops.add(op);
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Compare(first, ops, rest, line);
    }

    private Expr math1() {
        int mark = nesting;
        Expr l = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token t = next();
            enter();
            l = new Binary(t.text(), l, concat(), t.line());
        }
        nesting = mark;
        return l;
    }

    private Expr concat() {
        int mark = nesting;
        Expr l = math2();
        while (peek().isOp("~")) {
            Token t = next();
            enter();
            l = new Binary("~", l, math2(), t.line());
        }
        nesting = mark;
        return l;
    }

    private Expr math2() {
        int mark = nesting;
        Expr l = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token t = next();
            enter();
            l = new Binary(t.text(), l, pow(), t.line());
        }
        nesting = mark;
        return l;
    }

    private Expr pow() {
        int mark = nesting;
        Expr l = unary(true);
        while (peek().isOp("**")) {
            Token t = next();
            enter();
            l = new Binary("**", l, unary(true), t.line());
        }
        nesting = mark;
        return l;
    }

    private Expr unary(boolean withFilter) {
        enter();
        Expr e;
        if (peek().isOp("-") || peek().isOp("+")) {
            String op = next().text();
            e = new Unary(op, unary(false));
        } else {
            e = primary();
        }
        e = postfix(e);
        if (withFilter) e = filterExpr(e);
        nesting--;
        return e;
    }

    private Expr primary() {
        Token t = next();
        switch (t.type()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Const(Boolean.TRUE);
                    case "false", "False" -> new Const(Boolean.FALSE);
                    case "none", "None" -> new Const(null);
                    default -> {
                        names.peek().add(t.text());
                        yield new Name(t.text(), t.line());
                    }
                };
            }
            case STRING, INT, FLOAT -> {
                return new Const(t.value());
            }
            case OP -> {
                switch (t.text()) {
                    case "(" -> {
                        if (skipOp(")")) return new TupleLit(List.of());
                        Expr first = expression();
                        if (skipOp(")")) return first;
                        List<Expr> items = new ArrayList<>(List.of(first));
                        while (skipOp(",")) {
                            if (peek().isOp(")")) break;
                            items.add(expression());
                        }
                        expect(Type.OP, ")");
                        return new TupleLit(items);
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!skipOp("]")) {
                            if (!items.isEmpty()) expect(Type.OP, ",");
                            if (skipOp("]")) break;
                            items.add(expression());
                        }
                        return new ListLit(items);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>(), values = new ArrayList<>();
                        while (!skipOp("}")) {
                            if (!keys.isEmpty()) expect(Type.OP, ",");
                            if (skipOp("}")) break;
                            keys.add(expression());
                            expect(Type.OP, ":");
                            values.add(expression());
                        }
                        return new DictLit(keys, values);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        pos--;
        throw error("unexpected " + describe(t));
    }

    private Expr postfix(Expr e) {
        int mark = nesting;
        try {
            return postfixChain(e);
        } finally {
            nesting = mark;
        }
    }

    private Expr postfixChain(Expr e) {
        while (true) {
            enter();
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token n = next();
                if (n.type() == Type.NAME) e = new GetAttr(e, n.text(), n.line());
                else if (n.type() == Type.INT) e = new GetItem(e, new Const(n.value()), n.line());
                else throw TemplateException.syntax("expected name or number after '.'", n.line());
            } else if (t.isOp("[")) {
                next();
                Expr key = subscript();
                expect(Type.OP, "]");
                e = new GetItem(e, key, t.line());
            } else if (t.isOp("(")) {
                e = call(e);
            } else return e;
        }
    }

    private Expr subscript() {
        if (peek().isOp("]")) return new TupleLit(List.of()); // x[] is x[()] in jinja2
        List<Expr> parts = new ArrayList<>();
        do {
            parts.add(sliceOrExpr());
        } while (skipOp(",") && !peek().isOp("]"));
        return parts.size() == 1 ? parts.getFirst() : new TupleLit(parts);
    }

    private Expr sliceOrExpr() {
        Expr start = null, stop = null, step = null;
        if (!peek().isOp(":")) {
            start = expression();
            if (!peek().isOp(":")) return start;
        }
        next();
        if (!peek().isOp("]") && !peek().isOp(":") && !peek().isOp(",")) stop = expression();
        if (skipOp(":") && !peek().isOp("]") && !peek().isOp(",")) step = expression();
        return new Slice(start, stop, step);
    }

    private Call call(Expr fn) {
        int line = expect(Type.OP, "(").line();
        return new Call(fn, args(), line);
    }

    /** Call arguments after "(" through ")". */
    private Args args() {
        List<Expr> pos = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        Expr star = null, dstar = null;
        boolean first = true;
        while (!skipOp(")")) {
            if (!first) {
                expect(Type.OP, ",");
                if (skipOp(")")) break;
            }
            first = false;
            if (skipOp("**")) dstar = expression();
            else if (skipOp("*")) star = expression();
            else if (peek().type() == Type.NAME && peek(1).isOp("=")) {
                kwNames.add(next().text());
                next();
                kwValues.add(expression());
            } else {
                if (!kwNames.isEmpty()) throw error("positional argument after keyword argument");
                pos.add(expression());
            }
        }
        return new Args(pos, kwNames, kwValues, star, dstar);
    }

    private Expr filterExpr(Expr e) {
        int mark = nesting;
        try {
            return filterChainLinks(e);
        } finally {
            nesting = mark;
        }
    }

    private Expr filterChainLinks(Expr e) {
        while (true) {
            enter();
            Token t = peek();
            if (t.isOp("|")) e = filterChain(e);
            else if (t.isName("is")) e = test(e);
            else if (t.isOp("(")) e = call(e);
            else return e;
        }
    }

    private Expr filterChain(Expr e) {
        int mark = nesting;
        while (skipOp("|")) {
            enter();
            e = oneFilter(e);
        }
        nesting = mark;
        return e;
    }

    private Expr filterChainNoPipe(Expr e) {
        e = oneFilter(e);
        return filterChain(e);
    }

    private Expr oneFilter(Expr e) {
        Token n = expect(Type.NAME, null);
        String name = n.text();
        while (peek().isOp(".")) {
            next();
            name += "." + expect(Type.NAME, null).text();
        }
        if (!Filters.NAMES.contains(name)) unknown("filter", name);
        Args a = Args.NONE;
        if (skipOp("(")) a = args();
        return new Filter(e, name, a, n.line());
    }

    private Expr test(Expr e) {
        next(); // "is"
        boolean negated = skipName("not");
        Token n = expect(Type.NAME, null);
        String name = n.text();
        while (peek().isOp(".")) {
            next();
            name += "." + expect(Type.NAME, null).text();
        }
        if (!Tests.NAMES.contains(name)) unknown("test", name);
        Args a = Args.NONE;
        Token t = peek();
        if (t.isOp("(")) {
            next();
            a = args();
        } else if ((t.type() == Type.NAME || t.type() == Type.STRING || t.type() == Type.INT || t.type() == Type.FLOAT
                || t.isOp("[") || t.isOp("{") || t.isOp("("))
                && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) throw error("You cannot chain multiple tests with is");
            Expr arg = postfix(primary());
            a = new Args(List.of(arg), List.of(), List.of(), null, null);
        }
        Expr r = new Test(e, name, a, n.line());
        return negated ? new Unary("not", r) : r;
    }
}
