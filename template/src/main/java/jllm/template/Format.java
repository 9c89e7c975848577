package jllm.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jllm.template.Values.*;

/** Python's string formatting: {@code %}, {@code str.format} and {@code strftime}. */
final class Format {
    private Format() {
    }

    // ---- printf-style ---------------------------------------------------------------------------

    static String percent(Interpreter in, String fmt, Object args) {
        in.budget.scan(fmt.length());
        if (args instanceof Tuple t) in.budget.list(t.size());
        List<Object> list = args instanceof Tuple t ? new ArrayList<>(t) : new ArrayList<>(List.of(args == null ? NONE : args));
        Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
        // CPython treats any non-tuple argument with __getitem__ (dict, list, Undefined) as a mapping:
        // leftover arguments are then not an error.
        boolean mappingLike = mapping != null || args instanceof Undefined || (args instanceof List && !(args instanceof Tuple));
        StringBuilder sb = new StringBuilder();
        int next = 0;
        boolean usedMapping = false;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            if (++i >= fmt.length()) throw TemplateException.value("incomplete format");
            Object arg = null;
            boolean haveArg = false;
            if (fmt.charAt(i) == '(') {
                int close = fmt.indexOf(')', i);
                if (close < 0) throw TemplateException.value("incomplete format key");
                String key = fmt.substring(i + 1, close);
                if (args instanceof Undefined u) throw u.error();
                if (args instanceof List && !(args instanceof Tuple))
                    throw TemplateException.type("list indices must be integers or slices, not str");
                if (mapping == null) throw TemplateException.type("format requires a mapping");
                if (!mapping.containsKey(key)) throw new TemplateException("KeyError", Py.repr(key));
                arg = mapping.get(key);
                haveArg = true;
                usedMapping = true;
                i = close + 1;
            }
            String flags = "";
            while (i < fmt.length() && "-+ #0".indexOf(fmt.charAt(i)) >= 0) flags += fmt.charAt(i++);
            int width = -1, prec = -1;
            int s = i;
            while (i < fmt.length() && isAsciiDigit(fmt.charAt(i))) i++;
            if (i > s) width = size(in, fmt.substring(s, i), "width too big");
            if (i < fmt.length() && fmt.charAt(i) == '.') {
                s = ++i;
                while (i < fmt.length() && isAsciiDigit(fmt.charAt(i))) i++;
                prec = i > s ? size(in, fmt.substring(s, i), "precision too big") : 0;
            }
            if (i >= fmt.length()) throw TemplateException.value("incomplete format");
            char conv = fmt.charAt(i);
            if (conv == '%') {
                sb.append('%');
                continue;
            }
            if (!haveArg) {
                if (next >= list.size()) throw TemplateException.type("not enough arguments for format string");
                arg = list.get(next++);
                if (arg == NONE) arg = null;
            }
            String body = convert(conv, flags, prec, arg);
            String piece = pad(body, width, flags.contains("-") ? '<' : '>', flags.contains("0") && "diuxXofFeEgG".indexOf(conv) >= 0 ? '0' : ' ');
            in.budget.size(sb.length() + (long) piece.length());
            in.budget.chars(piece.length());
            sb.append(piece);
        }
        in.budget.string(sb.length());
        if (!usedMapping && next < list.size() && !mappingLike)
            throw TemplateException.type("not all arguments converted during string formatting");
        return sb.toString();
    }

    private static final Object NONE = new Object();

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * A width or precision written in a format: Python refuses numbers past its index size with this
     * message; anything wider than a value may be is refused before padding is built.
     */
    private static int size(Interpreter in, String digits, String tooBig) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > 18) throw TemplateException.value(tooBig);
        long n = Long.parseLong(d);
        if (n > Integer.MAX_VALUE) throw TemplateException.value(tooBig);
        in.budget.size(n);
        return (int) n;
    }

    private static String convert(char conv, String flags, int prec, Object arg) {
        arg = Py.unwrap(arg);
        // int()/float() of Undefined raise its error; %x and %c only probe __index__ and fail as TypeErrors.
        if (arg instanceof Undefined u && "diufFeEgG".indexOf(conv) >= 0) throw u.error();
        switch (conv) {
            case 's' -> {
                String s = Py.str(arg);
                return prec >= 0 && prec < s.length() ? s.substring(0, prec) : s;
            }
            case 'r', 'a' -> {
                return Py.repr(arg);
            }
            case 'd', 'i', 'u' -> {
                Object n = toIntNumber(arg, conv);
                return sign(flags, Py.intStr(n));
            }
            case 'x', 'X', 'o' -> {
                Object n = toIntNumber(arg, conv);
                String s = Py.toBig(n).toString(conv == 'o' ? 8 : 16);
                if (conv == 'X') s = s.toUpperCase(Locale.ROOT);
                return sign(flags, s);
            }
            case 'f', 'F', 'e', 'E', 'g', 'G' -> {
                if (!Py.isNumber(arg)) throw TemplateException.type("must be real number, not " + Py.typeName(arg));
                return sign(flags, formatFloat(Py.toDouble(arg), conv, prec < 0 ? 6 : prec, flags.contains("#")));
            }
            case 'c' -> {
                if (arg instanceof String s && s.codePointCount(0, s.length()) == 1) return s;
                if (Py.isInt(arg)) return chr(arg);
                throw TemplateException.type("%c requires int or char");
            }
            default -> throw TemplateException.value("unsupported format character '" + conv + "'");
        }
    }

    private static String chr(Object n) {
        long v = Py.toBig(n).bitLength() > 62 ? -1 : Py.toLong(n);
        if (v < 0 || v > 0x10FFFF) throw new TemplateException("OverflowError", "%c arg not in range(0x110000)");
        return new String(Character.toChars((int) v));
    }

    private static Object toIntNumber(Object arg, char conv) {
        if (Py.isInt(arg)) return arg instanceof Boolean b ? (b ? 1L : 0L) : arg;
        boolean decimal = conv == 'd' || conv == 'i' || conv == 'u';
        if (arg instanceof Double d && decimal) {
            if (d.isNaN() || d.isInfinite()) throw new TemplateException("ValueError", "cannot convert float NaN to integer");
            return Py.normInt(new BigDecimal(d).toBigInteger());
        }
        throw TemplateException.type("%" + conv + " format: " + (decimal ? "a real number" : "an integer") + " is required, not " + Py.typeName(arg));
    }

    private static String sign(String flags, String s) {
        if (s.startsWith("-")) return s;
        if (flags.contains("+")) return "+" + s;
        if (flags.contains(" ")) return " " + s;
        return s;
    }

    static String formatFloat(double d, char conv, int prec, boolean alt) {
        // The digits of a double reach at most 309 places before the point: its text is about this long at most.
        Budget.current().string(prec + 400L);
        if (prec > EXACT_DIGITS && !Double.isNaN(d) && !Double.isInfinite(d)) {
            // A double's exact decimal expansion ends within 1074 fraction digits (767 significant ones): every
            // further digit is a zero. Format to that many and pad, instead of scaling by 10^prec.
            String base = formatFloat(d, conv, EXACT_DIGITS, alt);
            if (Character.toLowerCase(conv) == 'g' && !alt) return base;
            String zeros = "0".repeat(prec - EXACT_DIGITS);
            int e = Math.max(base.indexOf('e'), base.indexOf('E'));
            return e < 0 ? base + zeros : base.substring(0, e) + zeros + base.substring(e);
        }
        if (Double.isNaN(d)) return Character.isUpperCase(conv) ? "NAN" : "nan";
        if (Double.isInfinite(d)) return (d < 0 ? "-" : "") + (Character.isUpperCase(conv) ? "INF" : "inf");
        switch (Character.toLowerCase(conv)) {
            case 'f' -> {
                return new BigDecimal(d).setScale(prec, RoundingMode.HALF_EVEN).toPlainString();
            }
            case 'e' -> {
                String s = expForm(d, prec);
                return conv == 'E' ? s.toUpperCase(Locale.ROOT) : s;
            }
            default -> {
                int p = prec == 0 ? 1 : prec;
                if (d == 0) return alt ? "0." + "0".repeat(p - 1) : (1 / d < 0 ? "-0" : "0");
                BigDecimal bd = new BigDecimal(d).round(new java.math.MathContext(p, RoundingMode.HALF_EVEN));
                int exp = bd.precision() - bd.scale() - 1;
                String s;
                if (exp < -4 || exp >= p) {
                    s = expForm(d, p - 1);
                    if (!alt) s = s.replaceFirst("\\.?0+e", "e");
                } else {
                    s = bd.setScale(Math.max(0, p - 1 - exp), RoundingMode.HALF_EVEN).toPlainString();
                    if (!alt && s.contains(".")) s = s.replaceFirst("\\.?0+$", "");
                }
                return conv == 'G' ? s.toUpperCase(Locale.ROOT) : s;
            }
        }
    }

    private static String expForm(double d, int prec) {
        if (d == 0) return (1 / d < 0 ? "-" : "") + "0" + (prec > 0 ? "." + "0".repeat(prec) : "") + "e+00";
        BigDecimal bd = new BigDecimal(d).round(new java.math.MathContext(prec + 1, RoundingMode.HALF_EVEN));
        int exp = bd.precision() - bd.scale() - 1;
        String digits = bd.unscaledValue().abs().toString();
        if (digits.length() < prec + 1) digits += "0".repeat(prec + 1 - digits.length());
        digits = digits.substring(0, prec + 1);
        String mant = digits.charAt(0) + (prec > 0 ? "." + digits.substring(1) : "");
        return (d < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }

    /** More fraction digits than any double's exact decimal expansion has. */
    private static final int EXACT_DIGITS = 1100;

    static String pad(String s, int width, char align, char fill) {
        if (width <= 0) return s;
        int len = Strs.length(s);
        if (width <= len) return s;
        int n = width - len;
        Budget.current().string((long) width + s.length());
        if (fill == '0' && align == '>') {
            int signLen = s.startsWith("-") || s.startsWith("+") || s.startsWith(" ") ? 1 : 0;
            return s.substring(0, signLen) + "0".repeat(n) + s.substring(signLen);
        }
        String f = String.valueOf(fill);
        return switch (align) {
            case '<' -> s + f.repeat(n);
            case '^' -> f.repeat(n / 2) + s + f.repeat(n - n / 2);
            default -> f.repeat(n) + s;
        };
    }

    /** Markup % args: arguments are HTML-escaped first, the result is Markup again. */
    static Markup markupPercent(Interpreter in, Markup m, Object args) {
        Object escaped;
        if (args instanceof Tuple t) {
            List<Object> l = new ArrayList<>();
            for (Object o : t) l.add(escapeArg(o));
            escaped = new Tuple(l);
        } else if (args instanceof Map<?, ?> map) {
            Map<Object, Object> out = new java.util.LinkedHashMap<>();
            for (var e : map.entrySet()) out.put(e.getKey(), escapeArg(e.getValue()));
            escaped = out;
        } else escaped = escapeArg(args);
        return new Markup(percent(in, m.s(), escaped));
    }

    private static Object escapeArg(Object o) {
        return o instanceof String || o instanceof List || o instanceof Map ? Markup.escape(Py.str(o)) : o;
    }

    // ---- str.format ------------------------------------------------------------------------------

    static String strFormat(Interpreter in, String fmt, List<Object> args, Map<String, Object> kwargs) {
        in.budget.scan(fmt.length());
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c == '}') {
                if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '}') i++;
                else throw TemplateException.value("Single '}' encountered in format string");
                sb.append('}');
                continue;
            }
            if (c != '{') {
                sb.append(c);
                continue;
            }
            if (i + 1 < fmt.length() && fmt.charAt(i + 1) == '{') {
                sb.append('{');
                i++;
                continue;
            }
            int close = fmt.indexOf('}', i);
            if (close < 0) throw TemplateException.value("Single '{' encountered in format string");
            String field = fmt.substring(i + 1, close);
            i = close;
            int colonAt = field.indexOf(':'), nested = field.indexOf('{');
            if (nested >= 0 && (colonAt < 0 || nested < colonAt)) throw TemplateException.value("unexpected '{' in field name");
            String spec = "";
            char conversion = 0;
            int colon = field.indexOf(':');
            if (colon >= 0) {
                spec = field.substring(colon + 1);
                field = field.substring(0, colon);
            }
            int bang = field.indexOf('!');
            if (bang >= 0) {
                conversion = bang + 1 < field.length() ? field.charAt(bang + 1) : 0;
                field = field.substring(0, bang);
            }
            String head = field.split("[.\\[]", 2)[0];
            Object v;
            if (head.isEmpty()) {
                if (auto >= args.size()) throw new TemplateException("IndexError", "Replacement index " + auto + " out of range for positional args tuple");
                v = args.get(auto++);
            } else if (head.chars().allMatch(Character::isDigit)) {
                long k = index(head);
                if (k >= args.size()) throw new TemplateException("IndexError", "Replacement index " + k + " out of range for positional args tuple");
                v = args.get((int) k);
            } else {
                if (!kwargs.containsKey(head)) throw new TemplateException("KeyError", Py.repr(head));
                v = kwargs.get(head);
            }
            // The rest of the field, .attr and [key] parts, walked by index (a chain may be long).
            int at = head.length();
            while (at < field.length()) {
                in.step();
                if (field.charAt(at) == '.') {
                    int e = field.length();
                    for (int k = at + 1; k < field.length(); k++) if (field.charAt(k) == '.' || field.charAt(k) == '[') { e = k; break; }
                    String attr = field.substring(at + 1, e);
                    if (attr.startsWith("_")) throw new TemplateException("SecurityError", "access to attribute '" + attr + "' of '" + Py.typeName(v) + "' object is unsafe.");
                    v = Ops.getAttr(Py.unwrap(v), attr);
                    at = e;
                } else {
                    int e = field.indexOf(']', at);
                    if (e < 0) throw TemplateException.value("Missing ']' in format string");
                    String key = field.substring(at + 1, e);
                    v = Ops.getItem(Py.unwrap(v), key.chars().allMatch(Character::isDigit) && !key.isEmpty() ? (Object) index(key) : key);
                    at = e + 1;
                }
                if (v instanceof Undefined u) throw u.error();
            }
            if (conversion == 'r') v = Py.repr(v);
            else if (conversion == 's') v = Py.str(v);
            String piece = formatSpec(v, spec);
            in.budget.size(sb.length() + (long) piece.length());
            in.budget.chars(piece.length());
            sb.append(piece);
        }
        in.budget.string(sb.length());
        return sb.toString();
    }

    /** A field index in a format string; Python refuses those past its index size. */
    private static long index(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > 18) throw TemplateException.value("Too many decimal digits in format string");
        return Long.parseLong(d);
    }

    /** Python's format(value, spec) for the common spec mini-language. */
    static String formatSpec(Object v, String spec) {
        String typeName = Py.typeName(v);
        v = Py.unwrap(v);
        if (spec.isEmpty()) return Py.str(v);
        if (v instanceof Boolean b) v = b ? 1L : 0L; // bool formats as int once a spec is given
        if (!(v instanceof String) && !Py.isNumber(v))
            throw TemplateException.type("unsupported format string passed to " + Py.typeName(v) + ".__format__");
        int i = 0;
        char fill = ' ', align = 0;
        if (spec.length() >= 2 && "<>^=".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.charAt(0);
            align = spec.charAt(1);
            i = 2;
        } else if ("<>^=".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            i = 1;
        }
        String sign = "";
        if (i < spec.length() && "+- ".indexOf(spec.charAt(i)) >= 0) sign = String.valueOf(spec.charAt(i++));
        boolean alt = false;
        if (i < spec.length() && spec.charAt(i) == '#') {
            alt = true;
            i++;
        }
        if (i < spec.length() && spec.charAt(i) == '0') {
            if (align == 0) {
                fill = '0';
                align = v instanceof String ? '<' : '='; // zero-padding of a string fills after it
            }
            i++;
        }
        int s = i;
        while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
        int width = i > s ? specNumber(spec.substring(s, i), false) : -1;
        boolean comma = false;
        if (i < spec.length() && (spec.charAt(i) == ',' || spec.charAt(i) == '_')) {
            comma = spec.charAt(i) == ',';
            i++;
        }
        int prec = -1;
        if (i < spec.length() && spec.charAt(i) == '.') {
            s = ++i;
            while (i < spec.length() && Character.isDigit(spec.charAt(i))) i++;
            prec = specNumber(spec.substring(s, i), true);
        }
        char type = i < spec.length() ? spec.charAt(i) : 0;
        String body;
        boolean numeric = Py.isNumber(v) && !(v instanceof Boolean && type == 0);
        if (v instanceof String str) {
            if (comma) throw TemplateException.value("Cannot specify ',' with 's'.");
            if (!sign.isEmpty()) throw TemplateException.value("Sign not allowed in string format specifier");
            if (type != 0 && type != 's') throw TemplateException.value("Unknown format code '" + type + "' for object of type '" + typeName + "'");
            body = prec >= 0 && prec < str.length() ? str.substring(0, prec) : str;
            if (align == 0) align = '<';
        } else if (numeric) {
            if (type == 0 && v instanceof Double d) body = prec >= 0 ? formatFloat(d, 'g', prec, false) : Py.floatRepr(d);
            else if (type == 0 || type == 'd') {
                if (v instanceof Double) throw TemplateException.value("Unknown format code 'd' for object of type 'float'");
                if (prec >= 0) throw TemplateException.value("Precision not allowed in integer format specifier");
                body = Py.intStr(v);
                if (comma) body = groupThousands(body);
            } else if ("fFeEgG%".indexOf(type) >= 0) {
                double d = Py.toDouble(v);
                if (type == '%') body = formatFloat(d * 100, 'f', prec < 0 ? 6 : prec, alt) + "%";
                else body = formatFloat(d, type, prec < 0 ? 6 : prec, alt);
            } else if (type == 'c' && Py.isInt(v)) {
                body = chr(v);
            } else if ("xXobc".indexOf(type) >= 0 && v instanceof Double) {
                throw TemplateException.value("Unknown format code '" + type + "' for object of type 'float'");
            } else if ("xXob".indexOf(type) >= 0) {
                body = Py.toBig(v).toString(type == 'o' ? 8 : type == 'b' ? 2 : 16);
                if (type == 'X') body = body.toUpperCase(Locale.ROOT);
            } else throw TemplateException.value("Unknown format code '" + type + "' for object of type '" + typeName + "'");
            if (!body.startsWith("-") && !sign.equals("-")) body = sign + body;
            if (align == 0) align = '>';
        } else {
            body = Py.str(v);
            if (align == 0) align = '<';
        }
        if (align == '=' && fill == '0') return pad(body, width, '>', '0');
        if (align == '=') {
            int signLen = body.startsWith("-") || body.startsWith("+") || body.startsWith(" ") ? 1 : 0;
            return body.substring(0, signLen) + pad(body.substring(signLen), width - signLen, '>', fill);
        }
        return pad(body, width, align, fill);
    }

    /** A width or precision in a format spec, with Python's errors for numbers past its index size. */
    private static int specNumber(String digits, boolean precision) {
        if (digits.isEmpty()) throw TemplateException.value("Format specifier missing precision");
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > 18) throw TemplateException.value("Too many decimal digits in format string");
        long n = Long.parseLong(d);
        if (precision && n > Integer.MAX_VALUE) throw TemplateException.value("precision too big");
        Budget.current().size(n);
        return (int) n;
    }

    private static String groupThousands(String digits) {
        boolean neg = digits.startsWith("-");
        String d = neg ? digits.substring(1) : digits;
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < d.length(); k++) {
            if (k > 0 && (d.length() - k) % 3 == 0) sb.append(',');
            sb.append(d.charAt(k));
        }
        return (neg ? "-" : "") + sb;
    }

    // ---- strftime ------------------------------------------------------------------------------

    /** C strftime as glibc does it under the C locale (the one transformers' servers run under). */
    static String strftime(LocalDateTime t, String fmt) {
        Budget b = Budget.current();
        b.scan(fmt.length());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            if (sb.length() > b.limits.maxStringChars()) b.size(sb.length());
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            b.step(64); // a directive formats numbers and names (String.format): about 64 steps' worth of time
            char f = fmt.charAt(++i);
            boolean noPad = false;
            if ((f == '-') && i + 1 < fmt.length()) {
                noPad = true;
                f = fmt.charAt(++i);
            }
            String v = switch (f) {
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> two(t.getYear() % 100, noPad);
                case 'm' -> two(t.getMonthValue(), noPad);
                case 'd' -> two(t.getDayOfMonth(), noPad);
                case 'e' -> noPad ? String.valueOf(t.getDayOfMonth()) : String.format("%2d", t.getDayOfMonth());
                case 'H' -> two(t.getHour(), noPad);
                case 'I' -> two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, noPad);
                case 'M' -> two(t.getMinute(), noPad);
                case 'S' -> two(t.getSecond(), noPad);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'j' -> noPad ? String.valueOf(t.getDayOfYear()) : String.format("%03d", t.getDayOfYear());
                case 'w' -> String.valueOf(t.getDayOfWeek().getValue() % 7);
                case 'u' -> String.valueOf(t.getDayOfWeek().getValue());
                case 'F' -> String.format("%04d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth());
                case 'T' -> String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
                case 'D' -> String.format("%02d/%02d/%02d", t.getMonthValue(), t.getDayOfMonth(), t.getYear() % 100);
                case 'f' -> String.format("%06d", t.getNano() / 1000);
                case 'r' -> String.format("%02d:%02d:%02d %s", t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, t.getMinute(), t.getSecond(),
                        t.getHour() < 12 ? "AM" : "PM");
                case 'R' -> String.format("%02d:%02d", t.getHour(), t.getMinute());
                case 'X' -> String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
                case 'x' -> String.format("%02d/%02d/%02d", t.getMonthValue(), t.getDayOfMonth(), t.getYear() % 100);
                case 'c' -> String.format("%s %s %2d %02d:%02d:%02d %d", t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH),
                        t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH), t.getDayOfMonth(), t.getHour(), t.getMinute(),
                        t.getSecond(), t.getYear());
                case 'C' -> two(t.getYear() / 100, noPad);
                case 'k' -> String.format("%2d", t.getHour());
                case 'l' -> String.format("%2d", t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
                case 'G' -> String.valueOf(t.get(java.time.temporal.IsoFields.WEEK_BASED_YEAR));
                case 'g' -> two(t.get(java.time.temporal.IsoFields.WEEK_BASED_YEAR) % 100, noPad);
                case 'V' -> two(t.get(java.time.temporal.IsoFields.WEEK_OF_WEEK_BASED_YEAR), noPad);
                case 'U' -> two((t.getDayOfYear() + 6 - t.getDayOfWeek().getValue() % 7) / 7, noPad);
                case 'W' -> two((t.getDayOfYear() + 6 - (t.getDayOfWeek().getValue() + 6) % 7) / 7, noPad);
                case 'z', 'Z' -> ""; // a naive local time has no zone, as with Python's datetime.now()
                case 's' -> String.valueOf(t.atZone(java.time.ZoneId.systemDefault()).toEpochSecond()); // mktime: local zone
                case 'n' -> "\n";
                case 't' -> "\t";
                case '%' -> "%";
                default -> "%" + (noPad ? "-" : "") + f;
            };
            sb.append(v);
        }
        b.string(sb.length());
        return sb.toString();
    }

    private static String two(int v, boolean noPad) {
        return noPad ? String.valueOf(v) : String.format("%02d", v);
    }
}
