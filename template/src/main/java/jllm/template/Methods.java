package jllm.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jllm.template.Values.*;

/** Methods of Python's str, dict and list that templates call, e.g. {@code content.strip()}. */
final class Methods {
    private Methods() {
    }

    static final Set<String> STR = Set.of("strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
            "replace", "upper", "lower", "title", "capitalize", "swapcase", "casefold", "find", "rfind", "index", "rindex", "count",
            "join", "format", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle",
            "isidentifier", "isascii", "zfill", "center", "ljust", "rjust", "partition", "rpartition", "removeprefix",
            "removesuffix", "expandtabs", "encode");
    static final Set<String> DICT = Set.of("get", "items", "keys", "values", "copy");
    static final Set<String> LIST = Set.of("index", "count", "copy");

    /** Methods that take no arguments; Python reports extra ones as "type.name() takes no arguments (n given)". */
    private static final Set<String> NO_ARGS = Set.of("upper", "lower", "title", "capitalize", "swapcase", "casefold", "isdigit",
            "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle", "isidentifier", "isascii",
            "items", "keys", "values", "copy", "is_integer");

    static Object call(Interpreter in, Object self, String name, List<Object> args, Map<String, Object> kwargs) {
        in.step();
        if (NO_ARGS.contains(name) && !args.isEmpty())
            throw TemplateException.type(Py.typeName(self) + "." + name + "() takes no arguments (" + args.size() + " given)");
        // str.format sees its arguments as given: a Markup argument keeps its own type name in errors.
        if (self instanceof String s && name.equals("format")) return Format.strFormat(in, s, args, kwargs);
        List<Object> a = new ArrayList<>(args.size());
        for (Object o : args) a.add(Py.unwrap(o));
        if (self instanceof String s) return str(in, s, name, a, kwargs);
        if (self instanceof Map<?, ?> m) {
            Ops.noKwargs(kwargs, name);
            switch (name) {
                case "get" -> {
                    arity(name, a, 1, 2);
                    Object key = a.getFirst();
                    if (key instanceof String) return m.containsKey(key) ? m.get(key) : a.size() > 1 ? args.get(1) : null;
                    in.budget.visit(m.size());
                    for (var e : m.entrySet()) if (Py.eq(e.getKey(), key)) return e.getValue();
                    return a.size() > 1 ? args.get(1) : null;
                }
                case "items" -> {
                    in.budget.pairs(m.size());
                    List<Object> out = new ArrayList<>(m.size());
                    for (var e : m.entrySet()) out.add(new Tuple(e.getKey(), e.getValue()));
                    return new View("dict_items", out, false, true);
                }
                case "keys" -> {
                    in.budget.list(m.size());
                    return new View("dict_keys", new ArrayList<>(m.keySet()), false, true);
                }
                case "values" -> {
                    in.budget.list(m.size());
                    return new View("dict_values", new ArrayList<>(m.values()), false, true);
                }
                case "copy" -> {
                    in.budget.dict(m.size());
                    return new LinkedHashMap<>(m);
                }
                default -> { }
            }
        }
        if (self instanceof List<?> l) {
            Ops.noKwargs(kwargs, name);
            switch (name) {
                case "index" -> {
                    arity(name, a, 1, 1);
                    in.budget.visit(l.size());
                    for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), a.getFirst())) return (long) i;
                    throw TemplateException.value(Py.repr(a.getFirst()) + " is not in list");
                }
                case "count" -> {
                    arity(name, a, 1, 1);
                    in.budget.visit(l.size());
                    long n = 0;
                    for (Object o : l) if (Py.eq(o, a.getFirst())) n++;
                    return n;
                }
                case "copy" -> {
                    in.budget.list(l.size());
                    return new ArrayList<>(l);
                }
                default -> { }
            }
        }
        if (self instanceof Double d && name.equals("is_integer")) return d == Math.rint(d) && !d.isInfinite();
        throw new TemplateException("AttributeError", "'" + Py.typeName(self) + "' object has no attribute '" + name + "'");
    }

    private static void arity(String name, List<Object> a, int min, int max) {
        if (a.size() < min || a.size() > max)
            throw TemplateException.type(name + "() takes " + (min == max ? "exactly " + min : "from " + min + " to " + max)
                    + " argument" + (max == 1 ? "" : "s") + " (" + a.size() + " given)");
    }

    private static String strArg(Object o, String fn) {
        if (o instanceof String s) return s;
        throw TemplateException.type("must be str, not " + Py.typeName(o));
    }

    private static Object str(Interpreter in, String s, String name, List<Object> a, Map<String, Object> kwargs) {
        if (!name.equals("format") && !name.equals("split") && !name.equals("rsplit") && !name.equals("splitlines")
                && !name.equals("replace") && !name.equals("encode")) Ops.noKwargs(kwargs, name);
        switch (name) {
            case "strip", "lstrip", "rstrip" -> {
                arity(name, a, 0, 1);
                if (!a.isEmpty() && a.getFirst() != null && !(a.getFirst() instanceof String))
                    throw TemplateException.type(name + " arg must be None or str");
                String chars = a.isEmpty() || a.getFirst() == null ? null : (String) a.getFirst();
                return Strs.strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split", "rsplit" -> {
                Object sep = a.size() > 0 ? a.get(0) : kwargs.get("sep");
                Object max = a.size() > 1 ? a.get(1) : kwargs.getOrDefault("maxsplit", -1L);
                if (sep != null && !(sep instanceof String)) throw TemplateException.type("must be str or None, not " + Py.typeName(sep));
                if ("".equals(sep)) throw TemplateException.value("empty separator");
                return Strs.split(s, (String) sep, Py.toLong(max), name.equals("rsplit"));
            }
            case "splitlines" -> {
                boolean keep = Py.truthy(a.isEmpty() ? kwargs.getOrDefault("keepends", false) : a.getFirst());
                return Strs.splitlines(s, keep);
            }
            case "startswith", "endswith" -> {
                arity(name, a, 1, 3);
                String t = Strs.slice(s, a.size() > 1 ? a.get(1) : null, a.size() > 2 ? a.get(2) : null);
                List<Object> cands = a.getFirst() instanceof Tuple tu ? tu : List.of(a.getFirst());
                in.budget.visit(cands.size());
                for (Object c : cands) {
                    if (!(Py.unwrap(c) instanceof String p))
                        throw TemplateException.type(name + " first arg must be str or a tuple of str, not " + Py.typeName(c));
                    if (name.equals("startswith") ? t.startsWith(p) : t.endsWith(p)) return true;
                }
                return false;
            }
            case "replace" -> {
                if (a.size() + kwargs.size() < 2) throw TemplateException.type("replace expected at least 2 arguments, got " + (a.size() + kwargs.size()));
                Object oldV = a.size() > 0 ? a.get(0) : kwargs.get("old");
                Object newV = a.size() > 1 ? a.get(1) : kwargs.get("new");
                Object count = a.size() > 2 ? a.get(2) : kwargs.getOrDefault("count", -1L);
                if (!(oldV instanceof String o) || !(newV instanceof String n)) throw TemplateException.type("replace() argument must be str");
                return Strs.replace(s, o, n, Py.toLong(count));
            }
            case "upper" -> {
                return Strs.upper(s);
            }
            case "lower" -> {
                return Strs.lower(s);
            }
            case "casefold" -> {
                return Strs.casefold(s);
            }
            case "title" -> {
                return Strs.title(s);
            }
            case "capitalize" -> {
                return Strs.capitalize(s);
            }
            case "swapcase" -> {
                return Strs.swapcase(s);
            }
            case "find", "rfind", "index", "rindex", "count" -> {
                arity(name, a, 1, 3);
                String sub = strArg(a.getFirst(), name);
                int n = Strs.length(s);
                int start = a.size() > 1 && a.get(1) != null ? (int) norm(Py.toLong(a.get(1)), n) : 0;
                int end = a.size() > 2 && a.get(2) != null ? (int) norm(Py.toLong(a.get(2)), n) : n;
                String region = start <= end ? Strs.slice(s, (long) start, (long) end) : "";
                if (name.equals("count")) {
                    if (start > n) return 0L;
                    if (sub.isEmpty()) return (long) Strs.length(region) + 1;
                    long c = 0;
                    for (int i = Strs.indexOf(region, sub, 0); i >= 0; i = Strs.indexOf(region, sub, i + sub.length())) c++;
                    return c;
                }
                int at = start > n ? -1 : name.startsWith("r") ? Strs.lastIndexOf(region, sub, region.length()) : Strs.indexOf(region, sub, 0);
                if (at >= 0) return (long) (Strs.length(region.substring(0, at)) + start);
                if (name.endsWith("index")) throw TemplateException.value("substring not found");
                return -1L;
            }
            case "join" -> {
                arity(name, a, 1, 1);
                Filters.Joiner j = new Filters.Joiner(in.budget, s);
                for (Object o : Py.iterate(a.getFirst())) {
                    if (!(Py.unwrap(o) instanceof String str))
                        throw TemplateException.type("sequence item: expected str instance, " + Py.typeName(o) + " found");
                    j.add(str);
                }
                return j.result();
            }
            case "format" -> {
                return Format.strFormat(in, s, a, kwargs);
            }
            case "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "isidentifier", "isascii" -> {
                in.budget.scan(s.length());
                return isKind(s, name);
            }
            case "isupper" -> {
                return Strs.isUpper(s);
            }
            case "islower" -> {
                return Strs.isLower(s);
            }
            case "istitle" -> {
                return Strs.isTitle(s);
            }
            case "zfill" -> {
                arity(name, a, 1, 1);
                return Format.pad(s, checkedWidth(in, s, a.getFirst()), '>', '0');
            }
            case "center", "ljust", "rjust" -> {
                arity(name, a, 1, 2);
                String fill = a.size() > 1 ? strArg(a.get(1), name) : " ";
                int w = checkedWidth(in, s, a.getFirst());
                if (name.equals("center")) return Strs.center(s, w, fill.charAt(0));
                return Format.pad(s, w, name.equals("ljust") ? '<' : '>', fill.charAt(0));
            }
            case "partition", "rpartition" -> {
                arity(name, a, 1, 1);
                String sep = strArg(a.getFirst(), name);
                if (sep.isEmpty()) throw TemplateException.value("empty separator");
                int at = name.equals("partition") ? Strs.indexOf(s, sep, 0) : Strs.lastIndexOf(s, sep, s.length());
                if (at < 0) return name.equals("partition") ? new Tuple(s, "", "") : new Tuple("", "", s);
                in.budget.string(s.length());
                return new Tuple(s.substring(0, at), sep, s.substring(at + sep.length()));
            }
            case "removeprefix" -> {
                String p = strArg(a.getFirst(), name);
                if (!s.startsWith(p) || p.isEmpty()) return s;
                in.budget.string(s.length() - p.length());
                return s.substring(p.length());
            }
            case "removesuffix" -> {
                String p = strArg(a.getFirst(), name);
                if (p.isEmpty() || !s.endsWith(p)) return s;
                in.budget.string(s.length() - p.length());
                return s.substring(0, s.length() - p.length());
            }
            case "expandtabs" -> {
                arity(name, a, 0, 1);
                return expandTabs(in, s, a.isEmpty() ? 8 : Py.toLong(a.getFirst()));
            }
            default -> throw new TemplateException("AttributeError", "'str' object has no attribute '" + name + "'");
        }
    }

    /** Python's character-class predicates over a whole string. */
    private static boolean isKind(String s, String name) {
        return switch (name) {
            case "isdigit", "isdecimal", "isnumeric" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(Strs::isSpace);
            case "isidentifier" -> !s.isEmpty() && (Character.isLetter(s.codePointAt(0)) || s.charAt(0) == '_')
                    && s.codePoints().allMatch(c -> Character.isLetterOrDigit(c) || c == '_');
            default -> s.chars().allMatch(c -> c < 128);
        };
    }

    /** A padding width: a result wider than the string is sized before it is built. */
    private static int checkedWidth(Interpreter in, String s, Object w) {
        long n = Py.toLong(w);
        if (n > s.length()) in.checkLength(n + s.length());
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n));
    }

    /** Python's str.expandtabs: each tab pads to the next multiple of tabsize columns; newlines reset the column. */
    private static String expandTabs(Interpreter in, String s, long tabsize) {
        StringBuilder sb = new StringBuilder(s.length());
        long col = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\t') {
                if (tabsize > 0) {
                    long pad = tabsize - col % tabsize;
                    in.budget.size(sb.length() + pad);
                    in.budget.chars(pad);
                    sb.repeat(' ', (int) pad);
                    col += pad;
                }
            } else {
                sb.append(c);
                col = c == '\n' || c == '\r' ? 0 : Character.isLowSurrogate(c) ? col : col + 1;
            }
        }
        in.budget.string(sb.length());
        return sb.toString();
    }

    private static long norm(long i, int n) {
        if (i < 0) i = Math.max(0, i + n);
        return Math.min(i, n + 1L);
    }
}
