package jllm.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jllm.template.Values.*;

/** Python operators, attribute and item access, with the sandbox's restrictions. */
final class Ops {
    private Ops() {
    }

    /** Methods the immutable sandbox refuses: they would modify a list or dict. */
    private static final Set<String> MUTATING_LIST = Set.of("append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove");
    private static final Set<String> MUTATING_DICT = Set.of("clear", "pop", "popitem", "setdefault", "update");

    /** A Markup operand seen by arithmetic: behaves as its string but reports its own type in errors. */
    record TypedStr(String s, String type) {
    }

    static Object typed(Object v) {
        return v instanceof Markup m ? new TypedStr(m.s(), "Markup") : v;
    }

    private static Object plain(Object v) {
        return v instanceof TypedStr t ? t.s() : v;
    }

    private static String tname(Object v) {
        return v instanceof TypedStr t ? t.type() : Py.typeName(v);
    }

    static Object binary(Interpreter in, String op, Object a, Object b) {
        if (op.equals("%") && (a instanceof String || a instanceof TypedStr) && b instanceof Undefined)
            return Format.percent(in, (String) plain(a), b);
        if (a instanceof Undefined u && !op.equals("~")) throw u.error();
        if (b instanceof Undefined u && !op.equals("~")) throw u.error();
        if (a instanceof TypedStr || b instanceof TypedStr) {
            if (op.equals("*") && (a instanceof TypedStr && Py.isInt(b) || b instanceof TypedStr && Py.isInt(a)))
                return binary(in, op, plain(a), plain(b));
            if (op.equals("*") && (a instanceof TypedStr ^ b instanceof TypedStr))
                throw TemplateException.type("'" + tname(a instanceof TypedStr ? b : a) + "' object cannot be interpreted as an integer");
            if (op.equals("*")) throw TemplateException.type("can't multiply sequence by non-int of type '" + tname(b) + "'");
            throw unsupported(op.equals("**") ? "** or pow()" : op, a, b);
        }
        if (a instanceof Undefined u && !op.equals("~")) throw u.error();
        if (b instanceof Undefined u && !op.equals("~")) throw u.error();
        return switch (op) {
            case "+" -> add(in, a, b);
            case "-" -> arith(a, b, op);
            case "*" -> mul(in, a, b);
            case "/" -> div(a, b);
            case "//" -> floorDiv(a, b);
            case "%" -> a instanceof String s ? Format.percent(in, s, b) : mod(a, b);
            case "**" -> pow(in, a, b);
            case "~" -> concat(in, Py.str(a), Py.str(b));
            default -> throw new IllegalStateException(op);
        };
    }

    private static String concat(Interpreter in, String a, String b) {
        in.checkLength((long) a.length() + b.length());
        return a + b;
    }

    private static TemplateException unsupported(String op, Object a, Object b) {
        return TemplateException.type("unsupported operand type(s) for " + op + ": '" + tname(a) + "' and '" + tname(b) + "'");
    }

    private static Object add(Interpreter in, Object a, Object b) {
        if (a instanceof String s) {
            if (b instanceof String t) return concat(in, s, t);
            throw TemplateException.type("can only concatenate str (not \"" + Py.typeName(b) + "\") to str");
        }
        if (a instanceof List<?> l && b instanceof List<?> m && (a instanceof Tuple) == (b instanceof Tuple) && !(a instanceof Range) && !(b instanceof Range)) {
            in.budget.list((long) l.size() + m.size());
            List<Object> out = new ArrayList<>(l.size() + m.size());
            out.addAll(l);
            out.addAll(m);
            return a instanceof Tuple ? new Tuple(out) : out;
        }
        if (a instanceof List<?> && !(a instanceof Range))
            throw TemplateException.type("can only concatenate " + Py.typeName(a) + " (not \"" + Py.typeName(b) + "\") to " + Py.typeName(a));
        return arith(a, b, "+");
    }

    private static Object arith(Object a, Object b, String op) {
        if (!Py.isNumber(a) || !Py.isNumber(b)) throw unsupported(op, a, b);
        if (a instanceof Double || b instanceof Double) {
            double x = Py.toDouble(a), y = Py.toDouble(b);
            return op.equals("+") ? x + y : op.equals("-") ? x - y : x * y;
        }
        if (a instanceof BigInteger || b instanceof BigInteger) {
            BigInteger x = Py.toBig(a), y = Py.toBig(b);
            bigWork(x, y, op.equals("*"));
            return Py.normInt(op.equals("+") ? x.add(y) : op.equals("-") ? x.subtract(y) : x.multiply(y));
        }
        long x = Py.toLong(a), y = Py.toLong(b);
        try {
            return op.equals("+") ? Math.addExact(x, y) : op.equals("-") ? Math.subtractExact(x, y) : Math.multiplyExact(x, y);
        } catch (ArithmeticException e) {
            return arith(BigInteger.valueOf(x), BigInteger.valueOf(y), op);
        }
    }

    /**
     * Big integers stay below 100,000 bits, but one multiplication or division of two such numbers is
     * still a million word operations: charge it (schoolbook cost, an upper bound) and the result's bytes.
     */
    private static void bigWork(BigInteger x, BigInteger y, boolean quadratic) {
        long wx = 1 + x.bitLength() / 64, wy = 1 + y.bitLength() / 64;
        Budget b = Budget.current();
        b.step(quadratic ? wx * wy / 16 : (wx + wy) / 16);
        b.alloc(16 + 8 * (quadratic ? wx + wy : Math.max(wx, wy) + 1));
    }

    private static Object mul(Interpreter in, Object a, Object b) {
        if ((a instanceof String || a instanceof List && !(a instanceof Range)) && Py.isInt(b)) return repeat(in, a, b);
        if ((b instanceof String || b instanceof List && !(b instanceof Range)) && Py.isInt(a)) return repeat(in, b, a);
        if (a instanceof String || a instanceof List && !(a instanceof Range))
            throw TemplateException.type("can't multiply sequence by non-int of type '" + Py.typeName(b) + "'");
        if (b instanceof String || b instanceof List && !(b instanceof Range))
            throw TemplateException.type("can't multiply sequence by non-int of type '" + Py.typeName(a) + "'");
        if (a instanceof BigInteger || b instanceof BigInteger) {
            if (Py.toBig(a).bitLength() + Py.toBig(b).bitLength() > 100_000)
                throw new TemplateException("LimitError", "integer result too large");
        }
        return arith(a, b, "*");
    }

    private static Object repeat(Interpreter in, Object seq, Object times) {
        if (Py.toBig(times).bitLength() > 63) throw new TemplateException("OverflowError", "cannot fit 'int' into an index-sized integer");
        long n = Math.max(0, Py.toLong(times));
        if (seq instanceof String s) {
            in.checkLength(Budget.mul(s.length(), n));
            return s.repeat((int) n);
        }
        List<?> l = (List<?>) seq;
        in.budget.list(Budget.mul(l.size(), n));
        List<Object> out = new ArrayList<>((int) (l.size() * n));
        for (long i = 0; i < n; i++) out.addAll(l);
        return seq instanceof Tuple ? new Tuple(out) : out;
    }

    private static Object div(Object a, Object b) {
        if (!Py.isNumber(a) || !Py.isNumber(b)) throw unsupported("/", a, b);
        double y = Py.toDouble(b);
        if (y == 0) throw new TemplateException("ZeroDivisionError", Py.isInt(a) && Py.isInt(b) ? "division by zero" : "float division by zero");
        return Py.toDouble(a) / y;
    }

    private static Object floorDiv(Object a, Object b) {
        if (!Py.isNumber(a) || !Py.isNumber(b)) throw unsupported("//", a, b);
        if (a instanceof Double || b instanceof Double) {
            double y = Py.toDouble(b);
            if (y == 0) throw new TemplateException("ZeroDivisionError", "float floor division by zero");
            return Math.floor(Py.toDouble(a) / y);
        }
        BigInteger y = Py.toBig(b);
        if (y.signum() == 0) throw new TemplateException("ZeroDivisionError", "integer division or modulo by zero");
        bigWork(Py.toBig(a), y, true);
        BigInteger[] qr = Py.toBig(a).divideAndRemainder(y);
        BigInteger q = qr[0];
        if (qr[1].signum() != 0 && qr[1].signum() != y.signum()) q = q.subtract(BigInteger.ONE);
        return Py.normInt(q);
    }

    private static Object mod(Object a, Object b) {
        if (!Py.isNumber(a) || !Py.isNumber(b)) throw unsupported("%", a, b);
        if (a instanceof Double || b instanceof Double) {
            double x = Py.toDouble(a), y = Py.toDouble(b);
            if (y == 0) throw new TemplateException("ZeroDivisionError", "float modulo");
            double r = x % y;
            if (r != 0 && (r < 0) != (y < 0)) r += y;
            return r == 0 ? Math.copySign(0.0, y) : r;
        }
        BigInteger y = Py.toBig(b);
        if (y.signum() == 0) throw new TemplateException("ZeroDivisionError", "integer modulo by zero");
        bigWork(Py.toBig(a), y, true);
        BigInteger r = Py.toBig(a).mod(y.abs());
        if (y.signum() < 0 && r.signum() != 0) r = r.add(y);
        return Py.normInt(r);
    }

    private static Object pow(Interpreter in, Object a, Object b) {
        if (!Py.isNumber(a) || !Py.isNumber(b)) throw unsupported("** or pow()", a, b);
        if (a instanceof Double || b instanceof Double || Py.toBig(b).signum() < 0) {
            double x = Py.toDouble(a), y = Py.toDouble(b);
            if (x == 0 && y < 0) throw new TemplateException("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            double r = Math.pow(x, y);
            if (Double.isInfinite(r) && !Double.isInfinite(x) && !Double.isInfinite(y))
                throw new TemplateException("OverflowError", "(34, 'Numerical result out of range')");
            if (x < 0 && y != Math.rint(y) && !Double.isInfinite(y))
                throw TemplateException.type("complex numbers are not supported");
            return r;
        }
        BigInteger base = Py.toBig(a);
        long e = Py.toLong(b);
        if (base.bitLength() > 100_000 || Budget.mul(base.bitLength(), e) > 100_000)
            throw new TemplateException("LimitError", "integer result too large (more than 100,000 bits)");
        long words = 1 + base.bitLength() * e / 64;
        in.step(1 + words * words / 16);
        in.budget.alloc(16 + 8 * words);
        return Py.normInt(base.pow((int) e));
    }

    static Object negate(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (v instanceof Markup) throw TemplateException.type("bad operand type for unary -: 'Markup'");
        if (v instanceof Double d) return -d;
        if (Py.isInt(v)) return Py.normInt(Py.toBig(v).negate());
        throw TemplateException.type("bad operand type for unary -: '" + Py.typeName(v) + "'");
    }

    static Object plus(Object v) {
        if (v instanceof Undefined u) throw u.error();
        if (v instanceof Markup) throw TemplateException.type("bad operand type for unary +: 'Markup'");
        if (v instanceof Boolean b) return b ? 1L : 0L;
        if (Py.isNumber(v)) return v;
        throw TemplateException.type("bad operand type for unary +: '" + Py.typeName(v) + "'");
    }

    // ---- attribute and item access -------------------------------------------------------------

    /** {@code obj.name}: a Python attribute first (methods, loop fields), then {@code obj['name']}. */
    static Object getAttr(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        Object attr = pythonAttr(obj, name);
        if (attr != null) return attr;
        return lookupItem(obj, name);
    }

    /** jinja2's {@code attr} filter: the Python attribute only, never an item. */
    static Object attrOnly(Object obj, String name) {
        if (obj instanceof Undefined u) throw u.error();
        Object attr = pythonAttr(obj, name);
        if (attr != null) return attr;
        if (obj instanceof Namespace ns && ns.attrs.containsKey(name)) return ns.read(name);
        return Undefined.attr(obj, name);
    }

    /** {@code obj[key]}: the item first, then (for string keys) the attribute, as jinja2 does. */
    static Object getItem(Object obj, Object key) {
        if (obj instanceof Undefined u) throw u.error();
        if (key instanceof Undefined) return Undefined.attr(obj, key);
        Object item = lookupItemOrMissing(obj, key);
        if (item != MISSING) return item;
        if (key instanceof String s) {
            Object attr = pythonAttr(obj, s);
            if (attr != null) return attr;
        }
        return Undefined.attr(obj, key);
    }

    private static final Object MISSING = new Object();

    private static Object lookupItem(Object obj, Object key) {
        Object item = lookupItemOrMissing(obj, key);
        return item == MISSING ? Undefined.attr(obj, key) : item;
    }

    private static Object lookupItemOrMissing(Object obj, Object key) {
        if (obj instanceof Map<?, ?> m) {
            if (key instanceof Long || key instanceof Boolean || key instanceof Double || key instanceof BigInteger) {
                Budget.current().visit(m.size());
                for (var e : m.entrySet()) if (Py.eq(e.getKey(), key)) return e.getValue();
                return MISSING;
            }
            if (key instanceof List<?> && !(key instanceof Tuple) || key instanceof Map) return MISSING;
            return m.containsKey(key) ? m.get(key) : MISSING;
        }
        if (obj instanceof List<?> l) {
            if (key instanceof Slice s) return slice(l, s, obj instanceof Tuple);
            if (!Py.isInt(key)) return MISSING;
            long i = Py.toLong(key);
            if (i < 0) i += l.size();
            return i >= 0 && i < l.size() ? l.get((int) i) : MISSING;
        }
        if (obj instanceof String s) {
            if (key instanceof Slice sl) return Strs.slice(s, sl);
            if (!Py.isInt(key)) return MISSING;
            long i = Py.toLong(key);
            int n = Strs.length(s);
            if (i < 0) i += n;
            if (i < 0 || i >= n) return MISSING;
            int at = n == s.length() ? (int) i : s.offsetByCodePoints(0, (int) i);
            return new String(Character.toChars(s.codePointAt(at)));
        }
        if (obj instanceof Namespace ns && key instanceof String k) return ns.attrs.containsKey(k) ? ns.read(k) : MISSING;
        return MISSING;
    }

    /** {@code obj[a:b:c]} with Python's own errors (jinja2 does not soften slices). */
    static Object sliceValue(Object raw, Slice s) {
        if (raw instanceof Undefined u) throw u.error();
        if (raw instanceof Markup m) return new Markup((String) lookupItemOrMissing(m.s(), s));
        if (raw instanceof String || raw instanceof List) {
            Object v = lookupItemOrMissing(raw, s);
            return raw instanceof Range && v instanceof List<?> l ? new ArrayList<>(l) : v;
        }
        if (raw instanceof Map) throw TemplateException.type("unhashable type: 'slice'");
        throw TemplateException.type("'" + Py.typeName(raw) + "' object is not subscriptable");
    }

    /** A resolved slice: start/stop/step already evaluated. */
    record Slice(Object start, Object stop, Object step) {
    }

    static List<Object> slice(List<?> l, Slice s, boolean tuple) {
        long[] r = sliceRange(l.size(), s);
        long start = r[0], step = r[1], count = r[2];
        Budget.current().list(count);
        if (l instanceof Range) Budget.current().alloc(Budget.BOXED * count);
        List<Object> out = new ArrayList<>((int) count);
        for (long k = 0, i = start; k < count; k++, i += step) out.add(l.get((int) i));
        return tuple ? new Tuple(out) : out;
    }

    /** Python's slice.indices for a sequence of {@code n} items: {start, step, number of items}. */
    static long[] sliceRange(int n, Slice s) {
        long step = s.step() == null ? 1 : clampIndex(s.step());
        if (step == 0) throw TemplateException.value("slice step cannot be zero");
        long start, stop;
        if (step > 0) {
            start = s.start() == null ? 0 : clamp(clampIndex(s.start()), n, 0, n);
            stop = s.stop() == null ? n : clamp(clampIndex(s.stop()), n, 0, n);
        } else {
            start = s.start() == null ? n - 1 : clamp(clampIndex(s.start()), n, -1, n - 1);
            stop = s.stop() == null ? -1 : clamp(clampIndex(s.stop()), n, -1, n - 1);
        }
        long count = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0) : (start > stop ? (start - stop - 1) / -step + 1 : 0);
        return new long[]{start, step, count};
    }

    /** Slice bounds beyond 64 bits clamp, as Python's do (they only ever select nothing or everything). */
    private static long clampIndex(Object v) {
        if (v instanceof BigInteger b && b.bitLength() > 62) return b.signum() > 0 ? Long.MAX_VALUE / 2 : Long.MIN_VALUE / 2;
        return Math.max(Long.MIN_VALUE / 2, Math.min(Long.MAX_VALUE / 2, Py.toLong(v)));
    }

    private static long clamp(long i, int n, long lo, long hi) {
        if (i < 0) i += n;
        return Math.max(lo, Math.min(hi, i));
    }

    /** Python attributes of builtin values; null when there is none. */
    private static Object pythonAttr(Object obj, String name) {
        if (name.startsWith("__")) return Undefined.unsafe(obj, name);
        if (obj instanceof Interpreter.Loop loop) return loop.attr(name);
        if (obj instanceof Namespace) return null;
        if (obj instanceof Map) {
            if (MUTATING_DICT.contains(name)) return Undefined.unsafe(obj, name);
            return Methods.DICT.contains(name) ? new BoundMethod(obj, name) : null;
        }
        if (obj instanceof Range) return null;
        if (obj instanceof List && !(obj instanceof Tuple)) {
            if (MUTATING_LIST.contains(name)) return Undefined.unsafe(obj, name);
            return Methods.LIST.contains(name) ? new BoundMethod(obj, name) : null;
        }
        if (obj instanceof Tuple) return name.equals("index") || name.equals("count") ? new BoundMethod(obj, name) : null;
        if (obj instanceof String) return Methods.STR.contains(name) ? new BoundMethod(obj, name) : null;
        if (obj instanceof Double d) {
            if (name.equals("real")) return d;
            if (name.equals("imag")) return 0.0;
            return name.equals("is_integer") ? new BoundMethod(obj, name) : null;
        }
        if (Py.isInt(obj)) {
            if (name.equals("real") || name.equals("numerator")) return Py.isInt(obj) && obj instanceof Boolean b ? (b ? 1L : 0L) : obj;
            if (name.equals("imag")) return 0L;
            if (name.equals("denominator")) return 1L;
            return null;
        }
        if (obj instanceof Interpreter.MacroValue m) return m.attr(name);
        return null;
    }

    /** Assignment {@code {% set ns.attr = v %}}: only namespaces accept it. */
    static void setAttr(Object obj, String name, Object value) {
        if (obj instanceof Namespace ns) {
            ns.attrs.put(name, value);
            ns.markFresh(name, 0);
            return;
        }
        throw new TemplateException("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
    }

    static Map<String, Object> noKwargs(Map<String, Object> kw, String fn) {
        if (!kw.isEmpty()) throw TemplateException.type(fn + "() got an unexpected keyword argument '" + kw.keySet().iterator().next() + "'");
        return kw;
    }
}
