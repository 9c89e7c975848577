package jllm.template;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.template.Node.*;
import jllm.template.Values.*;

/** Walks the syntax tree for one render, charging its {@link Budget}. Not thread-safe; one per render. */
final class Interpreter {
    private static final int NORMAL = 0, BREAK = 1, CONTINUE = 2;

    final Budget budget;
    final Limits limits;
    final LocalDateTime now;
    private int callDepth;
    private Object hole;

    Interpreter(Budget budget, LocalDateTime now) {
        this.budget = budget;
        this.limits = budget.limits;
        this.now = now;
    }

    /** Variables of one scope; lookups fall through to the parent, assignments stay local (jinja2 scoping). */
    static final class Scope {
        final Scope parent;
        final Map<String, Object> vars = new HashMap<>(4);

        Scope(Scope parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Scope s = this; s != null; s = s.parent) {
                if (s.vars.isEmpty()) continue;
                Object v = s.vars.get(name);
                if (v != null || s.vars.containsKey(name)) return v;
            }
            return Undefined.named(name);
        }
    }

    String render(List<Stmt> body, Map<String, Object> context) {
        Scope globals = new Scope(null);
        Builtins.install(globals.vars);
        Scope root = new Scope(globals);
        for (var e : context.entrySet()) root.vars.put(e.getKey(), Py.fromJava(e.getValue(), 0));
        StringBuilder out = new StringBuilder();
        exec(body, root, out);
        return captured(out);
    }

    // ---- limits --------------------------------------------------------------------------------

    void step() {
        budget.step();
    }

    void step(long n) {
        budget.step(n);
    }

    /** A string of {@code n} characters is about to be built. */
    void checkLength(long n) {
        budget.string(n);
    }

    /** Charges a string already built by a bounded operation. */
    String checkString(String s) {
        budget.string(s.length());
        return s;
    }

    private void emit(StringBuilder out, String s) {
        budget.write(s.length());
        out.append(s);
    }

    /** The text of an output buffer, a new string of its own; the buffer itself is garbage from then on. */
    private String captured(StringBuilder buf) {
        budget.string(buf.length());
        budget.free(2L * buf.length());
        return buf.toString();
    }

    // ---- statements ----------------------------------------------------------------------------

    private int exec(List<Stmt> body, Scope scope, StringBuilder out) {
        for (Stmt s : body) {
            int signal = exec(s, scope, out);
            if (signal != NORMAL) return signal;
        }
        return NORMAL;
    }

    private int exec(Stmt stmt, Scope scope, StringBuilder out) {
        step();
        budget.enter();
        try {
            return execStmt(stmt, scope, out);
        } finally {
            budget.leave();
        }
    }

    private int execStmt(Stmt stmt, Scope scope, StringBuilder out) {
        switch (stmt) {
            case Text t -> emit(out, t.text());
            case Output o -> emit(out, Py.str(eval(o.expr(), scope)));
            case If i -> {
                for (int k = 0; k < i.tests().size(); k++) {
                    if (Py.truthy(eval(i.tests().get(k), scope))) return exec(i.bodies().get(k), scope, out);
                }
                return exec(i.otherwise(), scope, out);
            }
            case For f -> {
                return forLoop(f, Py.iterate(eval(f.iter(), scope)), scope, out, 0);
            }
            case Set s -> {
                checkNamespaceTargets(s.target(), scope); // jinja2 checks these before evaluating the value
                if (s.target() instanceof AttrTarget t && accumulates(s.value(), t)) accumulate(t, (Binary) s.value(), scope);
                else {
                    Object v = eval(s.value(), scope);
                    assign(s.target(), v, scope);
                    // A fresh concatenation result held only by this attribute may be given back when replaced.
                    if (s.target() instanceof AttrTarget t && isConcat(s.value()) && scope.lookup(t.name()) instanceof Namespace ns)
                        ns.markFresh(t.attr(), Budget.chargeOf(v));
                }
            }
            case SetBlock s -> {
                StringBuilder buf = new StringBuilder();
                exec(s.body(), new Scope(scope), buf);
                Object v = captured(buf);
                if (s.filter() != null) v = withHole(v, s.filter(), scope);
                assign(s.target(), v, scope);
            }
            case Macro m -> {
                budget.closure(Budget.MACRO);
                scope.vars.put(m.name(), new MacroValue(m, scope));
            }
            case CallBlock c -> {
                Map<String, Object> extra = new LinkedHashMap<>();
                budget.closure(Budget.MACRO);
                extra.put("caller", new MacroValue(c.caller(), scope));
                emit(out, Py.str(call(c.call(), scope, extra)));
            }
            case FilterBlock f -> {
                StringBuilder buf = new StringBuilder();
                exec(f.body(), new Scope(scope), buf);
                emit(out, Py.str(withHole(captured(buf), f.filter(), scope)));
            }
            case Break b -> {
                return BREAK;
            }
            case Continue c -> {
                return CONTINUE;
            }
            case With w -> {
                Scope inner = new Scope(scope);
                List<Object> values = new ArrayList<>(w.values().size());
                for (Expr e : w.values()) values.add(eval(e, scope));
                for (int k = 0; k < values.size(); k++) assign(w.targets().get(k), values.get(k), inner);
                return exec(w.body(), inner, out);
            }
            case Block b -> {
                return exec(b.body(), scope, out);
            }
        }
        return NORMAL;
    }

    private Object withHole(Object value, Expr filter, Scope scope) {
        Object saved = hole;
        hole = value;
        try {
            return eval(filter, scope);
        } finally {
            hole = saved;
        }
    }

    private int forLoop(For f, List<Object> items, Scope scope, StringBuilder out, int depth) {
        if (f.filter() != null) {
            budget.copyOf(items);
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                step();
                Scope s = new Scope(scope);
                assign(f.target(), item, s);
                if (Py.truthy(eval(f.filter(), s))) kept.add(item);
            }
            items = kept;
        }
        // The else branch, like set and filter blocks, runs in a scope of its own: its assignments stay inside.
        if (items.isEmpty()) return exec(f.otherwise(), new Scope(scope), out);
        budget.closure(Budget.LOOP);
        Loop loop = new Loop(this, f, items, scope, depth);
        for (int i = 0; i < items.size(); i++) {
            step();
            loop.index0 = i;
            Scope s = new Scope(scope);
            assign(f.target(), items.get(i), s);
            s.vars.put("loop", loop);
            if (exec(f.body(), s, out) == BREAK) break;
        }
        return NORMAL;
    }

    private static void checkNamespaceTargets(Target target, Scope scope) {
        if (target instanceof AttrTarget a && !(scope.lookup(a.name()) instanceof Namespace))
            throw new TemplateException("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
        if (target instanceof TupleTarget t) for (Target x : t.items()) checkNamespaceTargets(x, scope);
    }

    private void assign(Target target, Object value, Scope scope) {
        switch (target) {
            case NameTarget n -> scope.vars.put(n.name(), value);
            case AttrTarget a -> Ops.setAttr(scope.lookup(a.name()), a.attr(), value);
            case TupleTarget t -> {
                if (!Py.isIterable(Py.unwrap(value)))
                    throw TemplateException.type("cannot unpack non-iterable " + Py.typeName(value) + " object");
                List<Object> items = Py.iterate(value);
                if (items.size() < t.items().size())
                    throw TemplateException.value("not enough values to unpack (expected " + t.items().size() + ", got " + items.size() + ")");
                if (items.size() > t.items().size())
                    throw TemplateException.value("too many values to unpack (expected " + t.items().size() + ")");
                for (int i = 0; i < items.size(); i++) assign(t.items().get(i), items.get(i), scope);
            }
        }
    }

    // ---- expressions ---------------------------------------------------------------------------

    Object eval(Expr expr, Scope scope) {
        step();
        budget.enter();
        try {
            return evalExpr(expr, scope);
        } finally {
            budget.leave();
        }
    }

    private Object evalExpr(Expr expr, Scope scope) {
        switch (expr) {
            case Const c -> {
                return c.value();
            }
            case Name n -> {
                return scope.lookup(n.name());
            }
            case ListLit l -> {
                budget.list(l.items().size());
                List<Object> out = new ArrayList<>(l.items().size());
                for (Expr e : l.items()) out.add(eval(e, scope));
                return out;
            }
            case TupleLit t -> {
                budget.list(t.items().size());
                List<Object> out = new ArrayList<>(t.items().size());
                for (Expr e : t.items()) out.add(eval(e, scope));
                return new Tuple(out);
            }
            case DictLit d -> {
                budget.dict(d.keys().size());
                Map<Object, Object> out = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object k = Py.unwrap(eval(d.keys().get(i), scope));
                    Py.checkHashable(k);
                    Py.putKey(out, k, eval(d.values().get(i), scope));
                }
                return out;
            }
            case GetAttr g -> {
                Object obj = eval(g.obj(), scope);
                Object v = Ops.getAttr(Py.unwrap(obj), g.name());
                return obj instanceof Markup && v instanceof Undefined u && u.hint == null ? Undefined.attr(obj, g.name()) : v;
            }
            case GetItem g -> {
                Object raw = eval(g.obj(), scope);
                if (g.key() instanceof Slice s) {
                    // jinja2 compiles slices to a plain Python subscript, bypassing its lenient getitem.
                    Ops.Slice sl = new Ops.Slice(sliceBound(s.start(), scope), sliceBound(s.stop(), scope), sliceBound(s.step(), scope));
                    return Ops.sliceValue(raw, sl);
                }
                Object key = Py.unwrap(eval(g.key(), scope));
                Object v = Ops.getItem(Py.unwrap(raw), key);
                return raw instanceof Markup && v instanceof Undefined u && u.hint == null ? Undefined.attr(raw, key) : v;
            }
            case Slice s -> throw TemplateException.syntax("slice outside of a subscript", 0);
            case Call c -> {
                return call(c, scope, Map.of());
            }
            case Filter f -> {
                Object value = eval(f.value(), scope);
                List<Object> args = new ArrayList<>();
                Map<String, Object> kwargs = new LinkedHashMap<>();
                evalArgs(f.args(), scope, args, kwargs);
                return Filters.apply(this, f.name(), value, args, kwargs, scope);
            }
            case Test t -> {
                Object value = eval(t.value(), scope);
                List<Object> args = new ArrayList<>();
                Map<String, Object> kwargs = new LinkedHashMap<>();
                evalArgs(t.args(), scope, args, kwargs);
                return Tests.apply(this, t.name(), value, args, scope);
            }
            case Unary u -> {
                Object v = eval(u.operand(), scope);
                return switch (u.op()) {
                    case "not" -> !Py.truthy(v);
                    case "-" -> Ops.negate(v);
                    default -> Ops.plus(v);
                };
            }
            case Binary b -> {
                Object l = eval(b.left(), scope);
                if (b.op().equals("and")) return Py.truthy(l) ? eval(b.right(), scope) : l;
                if (b.op().equals("or")) return Py.truthy(l) ? l : eval(b.right(), scope);
                return binary(b, l, eval(b.right(), scope));
            }
            case Compare c -> {
                Object left = eval(c.first(), scope);
                for (int i = 0; i < c.ops().size(); i++) {
                    Object right = eval(c.rest().get(i), scope);
                    String op = c.ops().get(i);
                    boolean ok = switch (op) {
                        case "==" -> Py.eq(left, right);
                        case "!=" -> !Py.eq(left, right);
                        case "<" -> Py.compare(left, right, op) < 0;
                        case ">" -> Py.compare(left, right, op) > 0;
                        case "<=" -> Py.compare(left, right, op) <= 0;
                        case ">=" -> Py.compare(left, right, op) >= 0;
                        case "in" -> Py.contains(right, left);
                        default -> !Py.contains(right, left);
                    };
                    if (!ok) return false;
                    left = right;
                }
                return true;
            }
            case CondExpr c -> {
                if (Py.truthy(eval(c.test(), scope))) return eval(c.then(), scope);
                if (c.otherwise() != null) return eval(c.otherwise(), scope);
                return new Undefined(null, Undefined.NO_OBJECT, "the inline if-expression on line " + c.line()
                        + " evaluated to false and no else section was defined.", "UndefinedError");
            }
            case Hole h -> {
                return hole;
            }
        }
    }

    /** A binary operator on evaluated operands. */
    private Object binary(Binary b, Object l, Object r) {
        Object res;
        if (b.op().equals("+") && (l instanceof Markup || r instanceof Markup)) res = markupAdd(l, r);
        else if (b.op().equals("%") && l instanceof Markup m) return Format.markupPercent(this, m, r);
        else if ((l instanceof Markup || r instanceof Markup) && !b.op().equals("~")) {
            res = Ops.binary(this, b.op(), Ops.typed(l), Ops.typed(r));
            if (b.op().equals("*") && res instanceof String str) res = new Markup(str);
        } else res = Ops.binary(this, b.op(), Py.unwrap(l), Py.unwrap(r));
        // In a ~ b ~ c the partial result a ~ b is garbage as soon as the next ~ has copied it: give its
        // bytes back, so long concatenation chains cost their result, not every prefix of it.
        if (isConcat(b)) {
            if (isConcat(b.left()) && l != res) budget.free(Budget.chargeOf(l));
            if (isConcat(b.right()) && r != res) budget.free(Budget.chargeOf(r));
        }
        return res;
    }

    private static boolean isConcat(Expr e) {
        return e instanceof Binary b && (b.op().equals("~") || b.op().equals("+"));
    }

    /**
     * {@code {% set ns.x = ns.x ~ a ~ b %}}, the way templates accumulate a prompt piece by piece. The old
     * value is copied into the new one; if nothing but this attribute ever held it (it was built by such a
     * chain and not read since), it is garbage once replaced, and its bytes are given back. Without this
     * a template accumulating a long conversation would be charged quadratically; Python copies the same
     * way but frees the old string at once. Evaluation order and errors are those of the plain chain.
     */
    private void accumulate(AttrTarget t, Binary chain, Scope scope) {
        Namespace ns = (Namespace) scope.lookup(t.name());
        List<Binary> spine = new ArrayList<>();
        Expr e = chain;
        while (isConcat(e)) {
            spine.add((Binary) e);
            e = ((Binary) e).left();
        }
        Object leaf;
        long leafCharge = 0;
        if (ns.attrs.containsKey(t.attr())) {
            step();
            leaf = ns.attrs.get(t.attr());
            leafCharge = ns.takeFresh(t.attr());
        } else leaf = eval(e, scope);
        long reads = ns.reads;
        Object acc = leaf;
        for (int i = spine.size() - 1; i >= 0; i--) {
            Binary b = spine.get(i);
            step();
            Object res = binary(b, acc, eval(b.right(), scope));
            acc = res;
        }
        if (leafCharge > 0 && ns.attrs.get(t.attr()) == leaf && acc != leaf && ns.reads == reads) budget.free(leafCharge);
        Ops.setAttr(ns, t.attr(), acc);
        if (acc != leaf) ns.markFresh(t.attr(), Budget.chargeOf(acc));
    }

    /** The value of a set statement is a chain like {@code ns.x ~ ...} whose first operand is the target itself. */
    private static boolean accumulates(Expr value, AttrTarget t) {
        if (!isConcat(value) || t.attr().startsWith("_")) return false;
        Expr e = value;
        while (isConcat(e)) e = ((Binary) e).left();
        return e instanceof GetAttr g && g.name().equals(t.attr()) && g.obj() instanceof Name n && n.name().equals(t.name());
    }

    private Object markupAdd(Object l, Object r) {
        // Markup probes the other operand for __html__, which an Undefined refuses with its own error.
        if (l instanceof Undefined u) throw u.error();
        if (r instanceof Undefined u) throw u.error();
        if (!(Py.unwrap(l) instanceof String) || !(Py.unwrap(r) instanceof String))
            throw TemplateException.type("unsupported operand type(s) for +: '" + Py.typeName(l) + "' and '" + Py.typeName(r) + "'");
        String a = Markup.of(l).s(), b = Markup.of(r).s();
        checkLength((long) a.length() + b.length());
        return new Markup(a + b);
    }

    private Object sliceBound(Expr e, Scope scope) {
        if (e == null) return null;
        Object v = eval(e, scope);
        if (v == null) return null;
        if (!Py.isInt(v)) throw TemplateException.type("slice indices must be integers or None or have an __index__ method");
        return v;
    }

    private void evalArgs(Args a, Scope scope, List<Object> args, Map<String, Object> kwargs) {
        for (Expr e : a.positional()) args.add(eval(e, scope));
        if (a.star() != null) {
            List<Object> more = Py.iterate(eval(a.star(), scope));
            budget.list(args.size());
            budget.copyOf(more);
            args.addAll(more);
        }
        for (int i = 0; i < a.kwNames().size(); i++) kwargs.put(a.kwNames().get(i), eval(a.kwValues().get(i), scope));
        if (a.doubleStar() != null) {
            Object m = eval(a.doubleStar(), scope);
            if (!(m instanceof Map<?, ?> map)) throw TemplateException.type("argument after ** must be a mapping, not " + Py.typeName(m));
            budget.dict(kwargs.size() + (long) map.size());
            for (var e : map.entrySet()) kwargs.put(Py.str(e.getKey()), e.getValue());
        }
    }

    private Object call(Call c, Scope scope, Map<String, Object> extraKwargs) {
        Object fn = eval(c.fn(), scope);
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        evalArgs(c.args(), scope, args, kwargs);
        kwargs.putAll(extraKwargs);
        return callValue(fn, args, kwargs);
    }

    Object callValue(Object fn, List<Object> args, Map<String, Object> kwargs) {
        if (fn instanceof Undefined u) throw u.error();
        if (fn instanceof PyCallable pc) return pc.call(this, args, kwargs);
        throw TemplateException.type("'" + Py.typeName(fn) + "' object is not callable");
    }

    /** Macro calls and recursive loops nest at most maxCallDepth deep; Python stops deep recursion the same way. */
    private void enterCall() {
        if (++callDepth > limits.maxCallDepth()) throw new TemplateException("RecursionError", "maximum recursion depth exceeded");
    }

    // ---- runtime objects -----------------------------------------------------------------------

    /** A macro (or a call block's {@code caller}) closed over the scope it was defined in. */
    static final class MacroValue implements PyCallable {
        final Macro macro;
        final Scope closure;

        MacroValue(Macro macro, Scope closure) {
            this.macro = macro;
            this.closure = closure;
        }

        Object attr(String name) {
            return switch (name) {
                case "name" -> macro.name();
                case "arguments" -> new Tuple(macro.params().stream().map(p -> (Object) p.name()).toList());
                case "catch_kwargs" -> macro.usesKwargs();
                case "catch_varargs" -> macro.usesVarargs();
                case "caller" -> macro.usesCaller();
                default -> null;
            };
        }

        @Override
        public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
            Macro m = macro;
            List<Param> params = m.params();
            Scope s = new Scope(closure);
            in.budget.dict(kwargs.size());
            Map<String, Object> kw = new LinkedHashMap<>(kwargs);
            if (args.size() > params.size() && !m.usesVarargs())
                throw TemplateException.type("macro '" + m.name() + "' takes not more than " + params.size() + " argument(s)");
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                if (i < args.size()) {
                    if (kw.containsKey(p.name()))
                        throw TemplateException.type("macro '" + m.name() + "' got multiple values for argument '" + p.name() + "'");
                    s.vars.put(p.name(), args.get(i));
                } else if (kw.containsKey(p.name())) {
                    s.vars.put(p.name(), kw.remove(p.name()));
                } else if (p.defaultValue() != null) {
                    s.vars.put(p.name(), in.eval(p.defaultValue(), s));
                } else {
                    s.vars.put(p.name(), new Undefined(p.name(), Undefined.NO_OBJECT, "parameter '" + p.name() + "' was not provided", "UndefinedError"));
                }
            }
            Object caller = kw.remove("caller");
            if (caller != null) {
                if (!m.usesCaller()) throw TemplateException.type("macro '" + m.name() + "' was invoked with two values for the special caller argument. This is most likely a bug.");
                s.vars.put("caller", caller);
            }
            if (m.usesVarargs()) {
                in.budget.list(args.size());
                s.vars.put("varargs", new Tuple(args.size() > params.size() ? args.subList(params.size(), args.size()) : List.of()));
            }
            if (m.usesKwargs()) {
                in.budget.dict(kw.size());
                s.vars.put("kwargs", new LinkedHashMap<Object, Object>(kw));
            }
            else if (!kw.isEmpty()) throw TemplateException.type("macro '" + m.name() + "' takes no keyword argument '" + kw.keySet().iterator().next() + "'");
            in.enterCall();
            try {
                StringBuilder buf = new StringBuilder();
                in.exec(m.body(), s, buf);
                return in.captured(buf);
            } finally {
                in.callDepth--;
            }
        }
    }

    /** jinja2's {@code loop} object; callable when the loop is {@code recursive}. */
    static final class Loop implements PyCallable {
        private final Interpreter in;
        private final For node;
        private final List<Object> items;
        private final Scope scope;
        private final int depth;
        int index0;
        private Object lastChanged = NOT_SET;
        private static final Object NOT_SET = new Object();

        Loop(Interpreter in, For node, List<Object> items, Scope scope, int depth) {
            this.in = in;
            this.node = node;
            this.items = items;
            this.scope = scope;
            this.depth = depth;
        }

        Object attr(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index0 + 1;
                case "index0" -> (long) index0;
                case "revindex" -> (long) (n - index0);
                case "revindex0" -> (long) (n - index0 - 1);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> (long) depth + 1;
                case "depth0" -> (long) depth;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("previtem", Undefined.NO_OBJECT, "there is no previous item", "UndefinedError");
                case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Undefined("nextitem", Undefined.NO_OBJECT, "there is no next item", "UndefinedError");
                case "cycle" -> (PyCallable) (i, args, kw) -> {
                    if (args.isEmpty()) throw TemplateException.type("no items for cycling given");
                    return args.get(index0 % args.size());
                };
                case "changed" -> (PyCallable) (i, args, kw) -> {
                    in.budget.list(args.size());
                    Object v = new Tuple(args);
                    if (lastChanged != NOT_SET && Py.eq(lastChanged, v)) return false;
                    lastChanged = v;
                    return true;
                };
                default -> null;
            };
        }

        @Override
        public Object call(Interpreter ignored, List<Object> args, Map<String, Object> kwargs) {
            if (!node.recursive())
                throw TemplateException.type("The loop must have the 'recursive' marker to be called recursively.");
            if (args.size() != 1) throw TemplateException.type("loop() takes exactly one argument");
            in.enterCall();
            try {
                StringBuilder buf = new StringBuilder();
                in.forLoop(node, Py.iterate(args.getFirst()), scope, buf, depth + 1);
                return in.captured(buf);
            } finally {
                in.callDepth--;
            }
        }
    }
}
