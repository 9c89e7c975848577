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

    /** Converts caller-supplied Java values (as Jackson produces them) into template values. */
    static Object fromJava(Object v, int depth) {
        if (depth > 10_000) throw new TemplateException("ValueError", "context nested too deeply");
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

    static String repr(Object v) {
        StringBuilder sb = new StringBuilder();
        repr(v, sb, 0);
        return sb.toString();
    }

    private static void repr(Object v, StringBuilder sb, int depth) {
        if (depth > 1000) throw new TemplateException("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
        if (v == null) sb.append("None");
        else if (v instanceof Boolean b) sb.append(b ? "True" : "False");
        else if (v instanceof Long || v instanceof BigInteger) sb.append(v);
        else if (v instanceof Double d) sb.append(floatRepr(d));
        else if (v instanceof String s) strRepr(s, sb);
        else if (v instanceof Markup m) {
            sb.append("Markup(");
            strRepr(m.s(), sb);
            sb.append(')');
        }
        else if (v instanceof Range r) sb.append(r.repr());
        else if (v instanceof Tuple t) {
            sb.append('(');
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) sb.append(", ");
                repr(t.get(i), sb, depth + 1);
            }
            sb.append(t.size() == 1 ? ",)" : ")");
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(", ");
                repr(l.get(i), sb, depth + 1);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (var e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                repr(e.getKey(), sb, depth + 1);
                sb.append(": ");
                repr(e.getValue(), sb, depth + 1);
            }
            sb.append('}');
        } else if (v instanceof View w) {
            if (w.typeName.startsWith("dict_")) {
                sb.append(w.typeName).append('(');
                repr(w.items, sb, depth + 1);
                sb.append(')');
            } else sb.append('<').append(w.typeName).append(" object>");
        } else if (v instanceof Namespace ns) {
            sb.append("<Namespace ");
            boolean first = true;
            for (var e : ns.attrs.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                sb.append(e.getKey()).append('=');
                repr(e.getValue(), sb, depth + 1);
            }
            sb.append('>');
        } else if (v instanceof Undefined) sb.append("Undefined");
        else sb.append('<').append(typeName(v)).append(" object>");
    }

    static void strRepr(String s, StringBuilder sb) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c == q || c == '\\') sb.append('\\').appendCodePoint(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", c));
            else if (!isPrintable(c)) sb.append(c <= 0xff ? String.format("\\x%02x", c) : c <= 0xffff ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
            else sb.appendCodePoint(c);
        }
        sb.append(q);
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
            for (var e : m.entrySet()) {
                if (isNumber(e.getKey()) && eq(e.getKey(), k)) {
                    e.setValue(v);
                    return;
                }
            }
        }
        m.put(k, v);
    }

    // ---- collections ---------------------------------------------------------------------------

    static int len(Object v) {
        v = unwrap(v);
        if (v instanceof String s) return s.codePointCount(0, s.length());
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
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
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

    static List<Object> chars(String s) {
        List<Object> out = new ArrayList<>(s.length());
        s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
        return out;
    }

    static boolean contains(Object container, Object item) {
        container = unwrap(container);
        item = unwrap(item);
        if (container instanceof String s) {
            if (item instanceof String t) return s.contains(t);
            throw TemplateException.type("'in <string>' requires string as left operand, not " + typeName(item));
        }
        if (container instanceof Map<?, ?> m) {
            if (item instanceof List<?> && !(item instanceof Tuple) || item instanceof Map)
                throw TemplateException.type("unhashable type: '" + typeName(item) + "'");
            for (Object k : m.keySet()) if (eq(k, item)) return true;
            return false;
        }
        if (container instanceof List<?> || container instanceof View || container instanceof Undefined) {
            for (Object o : iterate(container)) if (eq(o, item)) return true;
            return false;
        }
        throw TemplateException.type("argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---- equality and ordering -----------------------------------------------------------------

    static boolean eq(Object a, Object b) {
        a = unwrap(a);
        b = unwrap(b);
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) return numCompare(a, b) == 0 && !(isNaN(a) || isNaN(b));
        if (a instanceof String s) return s.equals(b);
        if (a instanceof List<?> l && b instanceof List<?> m) {
            if ((a instanceof Tuple) != (b instanceof Tuple) || (a instanceof Range) != (b instanceof Range) || l.size() != m.size()) return false;
            for (int i = 0; i < l.size(); i++) if (!eq(l.get(i), m.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (var e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return a.equals(b);
    }

    private static boolean isNaN(Object v) {
        return v instanceof Double d && d.isNaN();
    }

    static int compare(Object a, Object b, String op) {
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
            for (int i = 0; i < Math.min(l.size(), m.size()); i++) {
                if (!eq(l.get(i), m.get(i))) return compare(l.get(i), m.get(i), op);
            }
            return Integer.compare(l.size(), m.size());
        }
        if (a instanceof Undefined u) throw u.error();
        if (b instanceof Undefined u) throw u.error();
        throw TemplateException.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static int compareStrings(String s, String t) {
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
