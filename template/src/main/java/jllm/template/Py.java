package jllm.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.template.Values.*;

/**
 * Python semantics over plain Java values. None is {@code null}; ints are {@link Long} (or
 * {@link BigInteger} past 64 bits, as Python ints are unbounded); floats are {@link Double}; lists are
 * {@link List}; dicts are insertion-ordered {@link Map}s.
 */
final class Py {
    private Py() {
    }

    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    static Object normInt(BigInteger b) {
        return b.compareTo(LONG_MIN) >= 0 && b.compareTo(LONG_MAX) <= 0 ? (Object) b.longValue() : b;
    }

    /**
     * How deep caller-supplied values may nest. Real conversations and tool schemas nest a few dozen
     * levels; Python itself cannot print or serialize values nested much deeper than this.
     */
    static final int MAX_CONTEXT_DEPTH = 500;

    /** Converts caller-supplied Java values (as Jackson produces them) into template values. */
    static Object fromJava(Object v, int depth) {
        if (depth > MAX_CONTEXT_DEPTH)
            throw new TemplateException("ValueError", "context value nested deeper than " + MAX_CONTEXT_DEPTH + " levels");
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) return v;
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Float f) return f.doubleValue();
        if (v instanceof BigInteger b) return normInt(b);
        if (v instanceof BigDecimal d) return d.doubleValue();
        if (v instanceof Character c) return c.toString();
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (var e : m.entrySet()) out.put(fromJava(e.getKey(), depth + 1), fromJava(e.getValue(), depth + 1));
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Object o : it) out.add(fromJava(o, depth + 1));
            return out;
        }
        if (v instanceof Object[] a) return fromJava(List.of(a), depth);
        throw new TemplateException("TypeError", "unsupported context value of type " + v.getClass().getSimpleName());
    }

    /** Markup behaves as its string everywhere except in {@code +} and {@code %}. */
    static Object unwrap(Object v) {
        return v instanceof Markup m ? m.s() : v;
    }

    // ---- type names ----------------------------------------------------------------------------

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Boolean) return "bool";
        if (v instanceof Long || v instanceof BigInteger) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof String) return "str";
        if (v instanceof Markup) return "Markup";
        if (v instanceof Tuple) return "tuple";
        if (v instanceof Range) return "range";
        if (v instanceof List) return "list";
        if (v instanceof Map) return "dict";
        if (v instanceof View w) return w.typeName;
        if (v instanceof Namespace) return "Namespace";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Interpreter.Loop) return "LoopContext";
        if (v instanceof Interpreter.MacroValue) return "Macro";
        if (v instanceof BoundMethod) return "builtin_function_or_method";
        if (v instanceof Builtin b) return b.pyType();
        return "function";
    }

    /** jinja2's object_type_repr, used in undefined-attribute messages. */
    static String objectTypeRepr(Object v) {
        if (v == null) return "None";
        if (v instanceof Namespace) return "jinja2.utils.Namespace object";
        if (v instanceof Markup) return "markupsafe.Markup object";
        if (v instanceof Interpreter.Loop) return "jinja2.runtime.LoopContext object";
        if (v instanceof Interpreter.MacroValue) return "jinja2.runtime.Macro object";
        if (v instanceof Undefined) return "jinja2.runtime.Undefined object";
        return typeName(v) + " object";
    }

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof BigInteger || v instanceof Boolean;
    }

    static boolean isNumber(Object v) {
        return isInt(v) || v instanceof Double;
    }

    // ---- conversions ---------------------------------------------------------------------------

    static boolean truthy(Object v) {
        v = unwrap(v);
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof BigInteger b) return b.signum() != 0;
        if (v instanceof Double d) return d != 0.0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        if (v instanceof View w && w.sized) return !w.items.isEmpty();
        return true;
    }

    /** Python's {@code str(v)}; Undefined prints as the empty string. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Markup m) return m.s();
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    /**
     * Python's {@code repr(v)}. Values may share structure ({@code [s] * 1000} holds one string a thousand
     * times), so the text can be far larger than the values: it is charged and size-checked as it grows.
     */
    static String repr(Object v) {
        Budget b = Budget.current();
        StringBuilder sb = new StringBuilder();
        repr(v, sb, 0, b);
        b.string(sb.length());
        return sb.toString();
    }

    /** Python refuses to print or serialize deeper values (its recursion limit). */
    static final int MAX_VALUE_DEPTH = 1000;

    private static void repr(Object v, StringBuilder sb, int depth, Budget b) {
        if (depth > MAX_VALUE_DEPTH) throw new TemplateException("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
        b.step();
        if (v == null) sb.append("None");
        else if (v instanceof Boolean x) sb.append(x ? "True" : "False");
        else if (v instanceof Long) sb.append(v);
        else if (v instanceof BigInteger x) sb.append(intStr(x));
        else if (v instanceof Double d) sb.append(floatRepr(d));
        else if (v instanceof String s) {
            b.size(sb.length() + (long) s.length());
            strRepr(s, sb);
        } else if (v instanceof Markup m) {
            b.size(sb.length() + (long) m.s().length());
            sb.append("Markup(");
            strRepr(m.s(), sb);
            sb.append(')');
        }
        else if (v instanceof Range r) sb.append(r.repr());
        else if (v instanceof List<?> || v instanceof Map<?, ?> || v instanceof View || v instanceof Namespace) {
            b.enter();
            try {
                reprContainer(v, sb, depth, b);
            } finally {
                b.leave();
            }
        } else if (v instanceof Undefined) sb.append("Undefined");
        else sb.append('<').append(typeName(v)).append(" object>");
        b.size(sb.length());
    }

    private static void reprContainer(Object v, StringBuilder sb, int depth, Budget b) {
        if (v instanceof Tuple t) {
            sb.append('(');
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) sb.append(", ");
                repr(t.get(i), sb, depth + 1, b);
            }
            sb.append(t.size() == 1 ? ",)" : ")");
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(", ");
                repr(l.get(i), sb, depth + 1, b);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (var e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                repr(e.getKey(), sb, depth + 1, b);
                sb.append(": ");
                repr(e.getValue(), sb, depth + 1, b);
            }
            sb.append('}');
        } else if (v instanceof View w) {
            if (w.typeName.startsWith("dict_")) {
                sb.append(w.typeName).append('(');
                repr(w.items, sb, depth + 1, b);
                sb.append(')');
            } else sb.append('<').append(w.typeName).append(" object>");
        } else if (v instanceof Namespace ns) {
            sb.append("<Namespace ");
            boolean first = true;
            for (var e : ns.attrs.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(e.getKey()).append('=');
                repr(e.getValue(), sb, depth + 1, b);
            }
            sb.append('>');
        }
    }

    /** Python's limit on decimal conversion of ints (sys.get_int_max_str_digits() defaults to 4300). */
    static final int MAX_INT_DIGITS = 4300;

    private static final String INT_DIGITS_MSG = "Exceeds the limit (" + MAX_INT_DIGITS + " digits) for integer string conversion";

    /** {@code str(int)} with Python's digit limit, which also keeps conversion time bounded. */
    static String intStr(Object v) {
        if (!(v instanceof BigInteger x)) return String.valueOf(v instanceof Boolean bo ? (bo ? 1 : 0) : v);
        // 2^14300 > 10^4304: longer numbers need no conversion to be refused.
        String s = x.bitLength() > 14_300 ? null : x.abs().toString();
        if (s == null || s.length() > MAX_INT_DIGITS)
            throw TemplateException.value(INT_DIGITS_MSG + "; use sys.set_int_max_str_digits() to increase the limit");
        return x.signum() < 0 ? "-" + s : s;
    }

    /** {@code int(text)} for decimal text already stripped of sign, blanks and underscores, with Python's digit limit. */
    static BigInteger parseDecimal(String digits, boolean negative) {
        if (digits.length() > MAX_INT_DIGITS)
            throw TemplateException.value(INT_DIGITS_MSG + ": value has " + digits.length() + " digits; use sys.set_int_max_str_digits() to increase the limit");
        if (digits.startsWith("-") || digits.startsWith("+")) throw new NumberFormatException(digits);
        BigInteger v = new BigInteger(digits);
        return negative ? v.negate() : v;
    }

    static void strRepr(String s, StringBuilder sb) {
        if (s.length() >= 32) Budget.current().scan(s.length());
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c == q || c == '\\') sb.append('\\').appendCodePoint(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) hex(sb, "\\x", c, 2);
            else if (!isPrintable(c)) {
                if (c <= 0xff) hex(sb, "\\x", c, 2);
                else if (c <= 0xffff) hex(sb, "\\u", c, 4);
                else hex(sb, "\\U", c, 8);
            } else sb.appendCodePoint(c);
        }
        sb.append(q);
    }

    /** Appends {@code prefix} and {@code digits} lowercase hex digits of {@code c}. */
    static void hex(StringBuilder sb, String prefix, int c, int digits) {
        sb.append(prefix);
        for (int k = digits - 1; k >= 0; k--) sb.append(Character.forDigit((c >>> (4 * k)) & 0xf, 16));
    }

    /** Python's str.isprintable for one code point: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (except space). */
    static boolean isPrintable(int c) {
        if (c == ' ') return true;
        int t = Character.getType(c);
        return !(t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE || t == Character.PRIVATE_USE
                || t == Character.UNASSIGNED || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR
                || t == Character.SPACE_SEPARATOR);
    }

    /** Python's repr of a float: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        String sign = d < 0 ? "-" : "";
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int decpt = digits.length() - bd.scale();
        if (digits.length() == 2) {
            // Java never prints fewer than two digits, and then picks the closest two-digit decimal; Python
            // prints one digit whenever one round-trips (this matters only for subnormals like 5e-324).
            double abs = Math.abs(d);
            for (java.math.RoundingMode m : new java.math.RoundingMode[]{java.math.RoundingMode.HALF_EVEN, java.math.RoundingMode.DOWN, java.math.RoundingMode.UP}) {
                BigDecimal one = bd.round(new java.math.MathContext(1, m));
                if (one.doubleValue() == abs) {
                    one = one.stripTrailingZeros();
                    digits = one.unscaledValue().toString();
                    decpt = digits.length() - one.scale();
                    break;
                }
            }
        }
        StringBuilder sb = new StringBuilder(sign);
        if (decpt > 16 || decpt < -3) {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            int exp = decpt - 1;
            sb.append('e').append(exp < 0 ? '-' : '+');
            if (Math.abs(exp) < 10) sb.append('0');
            sb.append(Math.abs(exp));
        } else if (decpt <= 0) {
            sb.append("0.").append("0".repeat(-decpt)).append(digits);
        } else if (decpt >= digits.length()) {
            sb.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
        } else {
            sb.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
        }
        return sb.toString();
    }

    /** dict[k] = v with Python key identity: 1, 1.0 and True are one key (the first spelling is kept). */
    static void putKey(Map<Object, Object> m, Object k, Object v) {
        if (k instanceof Boolean || k instanceof Long || k instanceof Double || k instanceof BigInteger) {
            Budget.current().visit(m.size());
            for (var e : m.entrySet()) {
                if (isNumber(e.getKey()) && eq(e.getKey(), k)) {
                    e.setValue(v);
                    return;
                }
            }
        }
        m.put(k, v);
    }

    /**
     * Python refuses unhashable dict keys (lists, dicts, tuples holding them); hashing a tuple walks it,
     * so the walk is charged and its depth bounded like Python's.
     */
    static void checkHashable(Object k) {
        k = unwrap(k);
        if (k instanceof Tuple t) {
            Budget b = Budget.current();
            checkHashable(t, 0, b);
        } else if (k instanceof List<?> || k instanceof Map<?, ?>) {
            throw TemplateException.type("unhashable type: '" + typeName(k) + "'");
        }
    }

    private static void checkHashable(Tuple t, int depth, Budget b) {
        if (depth > MAX_VALUE_DEPTH) throw new TemplateException("RecursionError", "maximum recursion depth exceeded");
        b.visit(t.size());
        b.enter();
        try {
            for (Object o : t) {
                o = unwrap(o);
                if (o instanceof Tuple inner) checkHashable(inner, depth + 1, b);
                else if (o instanceof List<?> || o instanceof Map<?, ?>) throw TemplateException.type("unhashable type: '" + typeName(o) + "'");
            }
        } finally {
            b.leave();
        }
    }

    // ---- collections ---------------------------------------------------------------------------

    static int len(Object v) {
        v = unwrap(v);
        if (v instanceof String s) return Strs.length(s);
        if (v instanceof List<?> l) return l.size();
        if (v instanceof Map<?, ?> m) return m.size();
        if (v instanceof Undefined) return 0;
        if (v instanceof View w && w.sized) return w.items.size();
        if (v instanceof Namespace) throw TemplateException.type("object of type 'Namespace' has no len()");
        throw TemplateException.type("object of type '" + typeName(v) + "' has no len()");
    }

    /** Python iteration: list items, dict keys, string characters; Undefined iterates as empty. */
    static List<Object> iterate(Object v) {
        v = unwrap(v);
        if (v instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> r = (List<Object>) l;
            return r;
        }
        if (v instanceof Map<?, ?> m) {
            Budget.current().list(m.size());
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) return chars(s);
        if (v instanceof View w) return w.take();
        if (v instanceof Undefined u) {
            if (!u.kind.equals("UndefinedError")) throw u.error();
            return List.of();
        }
        throw TemplateException.type("'" + typeName(v) + "' object is not iterable");
    }

    static boolean isIterable(Object v) {
        return v instanceof List || v instanceof Map || v instanceof String || v instanceof View || v instanceof Undefined;
    }

    /** The characters of {@code s} as one-character strings (code points, as Python iterates). */
    static List<Object> chars(String s) {
        Budget b = Budget.current();
        b.size(s.length());
        b.alloc(Budget.CHAR_STRING * s.length());
        b.scan(s.length());
        List<Object> out = new ArrayList<>(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            out.add(c < LATIN1.length ? LATIN1[c] : new String(Character.toChars(c)));
        }
        return out;
    }

    /** Shared one-character strings for the common characters: iterating ASCII text allocates only the list. */
    private static final String[] LATIN1 = new String[256];

    static {
        for (int c = 0; c < LATIN1.length; c++) LATIN1[c] = String.valueOf((char) c);
    }

    static boolean contains(Object container, Object item) {
        container = unwrap(container);
        item = unwrap(item);
        if (container instanceof String s) {
            if (item instanceof String t) return Strs.indexOf(s, t, 0) >= 0;
            throw TemplateException.type("'in <string>' requires string as left operand, not " + typeName(item));
        }
        if (container instanceof Map<?, ?> m) {
            if (item instanceof List<?> && !(item instanceof Tuple) || item instanceof Map)
                throw TemplateException.type("unhashable type: '" + typeName(item) + "'");
            if (item instanceof String) return m.containsKey(item);
            Budget.current().visit(m.size());
            for (Object k : m.keySet()) if (eq(k, item)) return true;
            return false;
        }
        if (container instanceof List<?> || container instanceof View || container instanceof Undefined) {
            List<Object> l = iterate(container);
            Budget.current().visit(l.size());
            for (Object o : l) if (eq(o, item)) return true;
            return false;
        }
        throw TemplateException.type("argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---- equality and ordering -----------------------------------------------------------------

    static boolean eq(Object a, Object b) {
        return eq(a, b, 0, null);
    }

    /** Python's {@code ==}; nested containers are compared with a bounded depth, as Python's recursion limit does. */
    private static boolean eq(Object a, Object b, int depth, Budget budget) {
        a = unwrap(a);
        b = unwrap(b);
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) return numCompare(a, b) == 0 && !(isNaN(a) || isNaN(b));
        if (a instanceof String s) {
            if (b instanceof String t && s.length() == t.length() && s.length() >= 64) Budget.current().scan(s.length());
            return s.equals(b);
        }
        boolean lists = a instanceof List<?> && b instanceof List<?>, maps = a instanceof Map<?, ?> && b instanceof Map<?, ?>;
        if (!lists && !maps) return a.equals(b);
        if (depth > MAX_VALUE_DEPTH) throw new TemplateException("RecursionError", "maximum recursion depth exceeded in comparison");
        if (budget == null) budget = Budget.current();
        budget.enter();
        try {
            if (lists) {
                List<?> l = (List<?>) a, m = (List<?>) b;
                if ((a instanceof Tuple) != (b instanceof Tuple) || (a instanceof Range) != (b instanceof Range) || l.size() != m.size()) return false;
                budget.visit(l.size());
                for (int i = 0; i < l.size(); i++) if (!eq(l.get(i), m.get(i), depth + 1, budget)) return false;
                return true;
            }
            Map<?, ?> x = (Map<?, ?>) a, y = (Map<?, ?>) b;
            if (x.size() != y.size()) return false;
            budget.visit(x.size());
            for (var e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()), depth + 1, budget)) return false;
            }
            return true;
        } finally {
            budget.leave();
        }
    }

    private static boolean isNaN(Object v) {
        return v instanceof Double d && d.isNaN();
    }

    static int compare(Object a, Object b, String op) {
        return compare(a, b, op, 0);
    }

    private static int compare(Object a, Object b, String op, int depth) {
        Object ra = a, rb = b;
        a = unwrap(a);
        b = unwrap(b);
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        if ((ra instanceof Markup || rb instanceof Markup) && !(a instanceof String && b instanceof String))
            throw TemplateException.type("'" + op + "' not supported between instances of '" + typeName(ra) + "' and '" + typeName(rb) + "'");
        if (isNumber(a) && isNumber(b)) return numCompare(a, b);
        if (a instanceof String s && b instanceof String t) return compareStrings(s, t);
        if (a instanceof List<?> l && b instanceof List<?> m && (a instanceof Tuple) == (b instanceof Tuple)) {
            if (depth > MAX_VALUE_DEPTH) throw new TemplateException("RecursionError", "maximum recursion depth exceeded in comparison");
            Budget budget = Budget.current();
            budget.enter();
            try {
                for (int i = 0; i < Math.min(l.size(), m.size()); i++) {
                    budget.step();
                    if (!eq(l.get(i), m.get(i), depth + 1, budget)) return compare(l.get(i), m.get(i), op, depth + 1);
                }
                return Integer.compare(l.size(), m.size());
            } finally {
                budget.leave();
            }
        }
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        throw TemplateException.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static int compareStrings(String s, String t) {
        if (s.length() >= 64 && t.length() >= 64) Budget.current().scan(Math.min(s.length(), t.length()));
        int i = 0, j = 0;
        while (i < s.length() && j < t.length()) {
            int a = s.codePointAt(i), b = t.codePointAt(j);
            if (a != b) return Integer.compare(a, b);
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(s.length() - i, t.length() - j);
    }

    static int numCompare(Object a, Object b) {
        if (a instanceof Double || b instanceof Double) {
            double x = toDouble(a), y = toDouble(b);
            if (a instanceof Double && b instanceof Double || (Math.abs(x) < 9e15 && Math.abs(y) < 9e15)) return Double.compare(x == 0 ? 0.0 : x, y == 0 ? 0.0 : y);
            return new BigDecimal(x).compareTo(new BigDecimal(y));
        }
        if (a instanceof Long x && b instanceof Long y) return Long.compare(x, y);
        return toBig(a).compareTo(toBig(b));
    }

    static double toDouble(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        if (v instanceof BigInteger b) return b.doubleValue();
        return ((Number) v).doubleValue();
    }

    static BigInteger toBig(Object v) {
        if (v instanceof Boolean b) return b ? BigInteger.ONE : BigInteger.ZERO;
        if (v instanceof BigInteger b) return b;
        return BigInteger.valueOf(((Number) v).longValue());
    }

    static long toLong(Object v) {
        if (v instanceof Boolean b) return b ? 1 : 0;
        if (v instanceof Long l) return l;
        if (v instanceof BigInteger b) {
            if (b.bitLength() > 63) throw new TemplateException("OverflowError", "Python int too large to convert to C ssize_t");
            return b.longValue();
        }
        throw TemplateException.type("'" + typeName(v) + "' object cannot be interpreted as an integer");
    }

    /** An index argument (bool and int accepted) clamped into int range. */
    static int toIndex(Object v) {
        long l = toLong(v);
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
    }
}
