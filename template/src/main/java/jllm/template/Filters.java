package jllm.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jllm.template.Interpreter.Scope;
import jllm.template.Values.*;

/** jinja2's builtin filters, with transformers' {@code tojson}. */
final class Filters {
    private Filters() {
    }

    static final Set<String> NAMES = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort",
            "e", "escape", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last", "length",
            "list", "lower", "map", "max", "min", "pprint", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
            "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper",
            "wordcount");

    private static final Set<String> LENIENT_ON_FALSY = Set.of("map", "select", "reject", "selectattr", "rejectattr");
    private static final Set<String> LAZY = Set.of("map", "select", "reject", "selectattr", "rejectattr", "unique", "batch", "slice", "items");

    /** Positional-or-keyword argument binding, like a Python signature. */
    private record A(List<Object> args, Map<String, Object> kwargs, String fn) {
        Object get(int i, String name, Object def) {
            if (i < args.size()) return args.get(i);
            return kwargs.containsKey(name) ? kwargs.get(name) : def;
        }

        Object req(int i, String name) {
            Object v = get(i, name, A.class);
            if (v == A.class) throw TemplateException.type(fn + "() missing required argument '" + name + "'");
            return v;
        }
    }

    /** Keyword parameters of each filter (after the value); filters taking **kwargs are absent. */
    private static final Map<String, List<String>> PARAMS = Map.ofEntries(
            Map.entry("attr", List.of("name")), Map.entry("batch", List.of("linecount", "fill_with")),
            Map.entry("capitalize", List.of()), Map.entry("center", List.of("width")),
            Map.entry("d", List.of("default_value", "boolean")), Map.entry("default", List.of("default_value", "boolean")),
            Map.entry("dictsort", List.of("case_sensitive", "by", "reverse")), Map.entry("first", List.of()),
            Map.entry("float", List.of("default")), Map.entry("forceescape", List.of()),
            Map.entry("groupby", List.of("attribute", "default", "case_sensitive")), Map.entry("indent", List.of("width", "first", "blank")),
            Map.entry("int", List.of("default", "base")), Map.entry("items", List.of()), Map.entry("join", List.of("d", "attribute")),
            Map.entry("last", List.of()), Map.entry("list", List.of()), Map.entry("lower", List.of()),
            Map.entry("max", List.of("case_sensitive", "attribute")), Map.entry("min", List.of("case_sensitive", "attribute")),
            Map.entry("pprint", List.of()), Map.entry("replace", List.of("old", "new", "count")), Map.entry("reverse", List.of()),
            Map.entry("round", List.of("precision", "method")), Map.entry("safe", List.of()), Map.entry("slice", List.of("slices", "fill_with")),
            Map.entry("sort", List.of("reverse", "case_sensitive", "attribute")), Map.entry("striptags", List.of()),
            Map.entry("sum", List.of("attribute", "start")), Map.entry("title", List.of()),
            Map.entry("tojson", List.of("ensure_ascii", "indent", "separators", "sort_keys")), Map.entry("trim", List.of("chars")),
            Map.entry("truncate", List.of("length", "killwords", "end", "leeway")), Map.entry("unique", List.of("case_sensitive", "attribute")),
            Map.entry("upper", List.of()), Map.entry("wordcount", List.of()));
    /** Filters that are C builtins in Python (abs, len, escape, str): they take no keyword arguments at all. */
    private static final Map<String, String> BUILTIN_NAMES = Map.of("abs", "abs", "count", "len", "length", "len", "e", "escape",
            "escape", "escape", "string", "soft_str");

    /** Python's name for the function behind a filter, as its TypeErrors show it. */
    private static String pyName(String filter) {
        if (filter.equals("tojson")) return "_compile_jinja_template.<locals>.tojson";
        if (filter.equals("safe")) return "do_mark_safe";
        if (filter.equals("d")) return "do_default";
        return "do_" + filter;
    }

    private static void checkKwargs(String name, Map<String, Object> kwargs) {
        if (kwargs.isEmpty()) return;
        String builtin = BUILTIN_NAMES.get(name);
        if (builtin != null) throw TemplateException.type(builtin + "() takes no keyword arguments");
        List<String> params = PARAMS.get(name);
        if (params == null) return;
        for (String k : kwargs.keySet()) {
            if (!params.contains(k)) throw TemplateException.type(pyName(name) + "() got an unexpected keyword argument '" + k + "'");
        }
    }

    static Object apply(Interpreter in, String name, Object value, List<Object> args, Map<String, Object> kwargs, Scope scope) {
        if (NAMES.contains(name)) checkKwargs(name, kwargs);
        A a = new A(args, kwargs, pyName(name));
        switch (name) {
            case "safe" -> {
                return value instanceof Markup m ? m : new Markup(Py.str(value));
            }
            case "e", "escape" -> {
                return Markup.of(value);
            }
            case "forceescape" -> {
                return new Markup(Markup.escape(Py.str(value)));
            }
            case "string" -> {
                return value instanceof Markup ? value : Py.str(value);
            }
            case "default", "d" -> {
                Object def = a.get(0, "default_value", "");
                boolean bool = Py.truthy(a.get(1, "boolean", false));
                return value instanceof Undefined || (bool && !Py.truthy(value)) ? def : value;
            }
            default -> { }
        }
        Object raw = value;
        value = Py.unwrap(value);
        // jinja2's map/select family yields nothing for a falsy input (None included) instead of failing.
        if (LAZY.contains(name)) {
            // Generator functions in jinja2: nothing runs (not even argument checks) until iterated.
            Object v = value;
            in.budget.closure(Budget.LAZY_FILTER);
            return View.lazy(() -> {
                if (LENIENT_ON_FALSY.contains(name) && !Py.truthy(v)) return new ArrayList<>();
                return ((View) eager(in, name, v, raw, a, args, kwargs, scope)).items;
            });
        }
        return eager(in, name, value, raw, a, args, kwargs, scope);
    }

    private static Object eager(Interpreter in, String name, Object value, Object raw, A a, List<Object> args, Map<String, Object> kwargs,
            Scope scope) {
        switch (name) {
            case "length", "count" -> {
                return (long) Py.len(value);
            }
            case "list" -> {
                List<Object> l = Py.iterate(value);
                in.budget.copyOf(l);
                return new ArrayList<>(l);
            }
            case "first" -> {
                if (value instanceof String s) return s.isEmpty() ? eager(in, name, List.of(), raw, a, args, kwargs, scope)
                        : new String(Character.toChars(s.codePointAt(0)));
                List<Object> l = Py.iterate(value);
                return l.isEmpty() ? new Undefined(null, Undefined.NO_OBJECT, "No first item, sequence was empty.", "UndefinedError") : l.getFirst();
            }
            case "last" -> {
                if (value instanceof View w && w.singleUse || !Py.isIterable(value))
                    throw TemplateException.type("'" + Py.typeName(value) + "' object is not reversible");
                if (value instanceof String s && !s.isEmpty()) return new String(Character.toChars(s.codePointBefore(s.length())));
                List<Object> l = Py.iterate(value);
                return l.isEmpty() ? new Undefined(null, Undefined.NO_OBJECT, "No last item, sequence was empty.", "UndefinedError") : l.getLast();
            }
            case "join" -> {
                String sep = Py.str(a.get(0, "d", ""));
                Object attr = a.get(1, "attribute", null);
                Joiner j = new Joiner(in.budget, sep);
                for (Object o : Py.iterate(value)) j.add(Py.str(attr == null ? o : attrGet(o, attr)));
                return j.result();
            }
            case "trim" -> {
                Object chars = a.get(0, "chars", null);
                return Strs.strip(Py.str(value), chars == null ? null : Py.str(chars), true, true);
            }
            case "upper" -> {
                return Strs.upper(Py.str(value));
            }
            case "lower" -> {
                return Strs.lower(Py.str(value));
            }
            case "capitalize" -> {
                return Strs.capitalize(Py.str(value));
            }
            case "title" -> {
                return Strs.jinjaTitle(Py.str(value));
            }
            case "replace" -> {
                Object count = a.get(2, "count", null);
                return Strs.replace(Py.str(value), Py.str(Py.unwrap(a.req(0, "old"))), Py.str(Py.unwrap(a.req(1, "new"))),
                        count == null ? -1 : Py.toLong(count));
            }
            case "center" -> {
                long w = Py.toLong(a.get(0, "width", 80L));
                String str = Py.str(value);
                if (w > Strs.length(str)) in.checkLength(w);
                return Strs.center(str, (int) Math.min(w, Integer.MAX_VALUE), ' ');
            }
            case "indent" -> {
                if (!(value instanceof String)) {
                    if (value instanceof Undefined u) throw u.error();
                    if (value instanceof List && !(value instanceof Tuple)) throw new TemplateException("AttributeError", "'list' object has no attribute 'splitlines'");
                    if (value instanceof Tuple) throw TemplateException.type("can only concatenate tuple (not \"str\") to tuple");
                    throw TemplateException.type("unsupported operand type(s) for +=: '" + Py.typeName(value) + "' and 'str'");
                }
                return indent(in, Py.str(value), a.get(0, "width", 4L), Py.truthy(a.get(1, "first", false)), Py.truthy(a.get(2, "blank", false)));
            }
            case "truncate" -> {
                if (!(value instanceof String)) {
                    long limit = Py.toLong(a.get(0, "length", 255L));
                    Object lw = a.get(3, "leeway", null);
                    if (Py.len(value) <= limit + (lw == null ? 5 : Py.toLong(lw))) return raw;
                    if (value instanceof Map) throw TemplateException.type("unhashable type: 'slice'");
                    if (!Py.truthy(a.get(1, "killwords", false)))
                        throw new TemplateException("AttributeError", "'" + Py.typeName(value) + "' object has no attribute 'rsplit'");
                    throw TemplateException.type("can only concatenate " + Py.typeName(value) + " (not \"str\") to " + Py.typeName(value));
                }
                return truncate(Py.str(value), Py.toLong(a.get(0, "length", 255L)), Py.truthy(a.get(1, "killwords", false)),
                        Py.str(a.get(2, "end", "...")), a.get(3, "leeway", null));
            }
            case "wordcount" -> {
                String str = Py.str(value);
                in.budget.scan(str.length());
                Matcher m = WORD.matcher(str);
                long n = 0;
                while (m.find()) n++;
                return n;
            }
            case "striptags" -> {
                String s = Py.str(value);
                in.budget.string(s.length());
                s = removeAll(removeAll(s, "<!--", "-->"), "<", ">");
                Joiner j = new Joiner(in.budget, " ");
                for (Object w : Strs.split(s, null, -1, false)) j.add((String) w);
                s = j.result();
                in.budget.string(s.length());
                return s.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", "\"").replace("&#39;", "'").replace("&quot;", "\"").replace("&amp;", "&");
            }
            case "format" -> {
                if (!args.isEmpty() && !kwargs.isEmpty()) throw new TemplateException("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
                in.budget.list((long) args.size() + kwargs.size());
                return Format.percent(in, Py.str(value), kwargs.isEmpty() ? new Tuple(args) : new LinkedHashMap<Object, Object>(kwargs));
            }
            case "int" -> {
                if (value instanceof Undefined u) throw u.error();
                return toInt(value, a.get(0, "default", 0L), Py.toLong(a.get(1, "base", 10L)));
            }
            case "float" -> {
                if (value instanceof Undefined u) throw u.error();
                return toFloat(value, a.get(0, "default", 0.0));
            }
            case "abs" -> {
                if (value instanceof Double d) return Math.abs(d);
                if (Py.isInt(value)) return Py.normInt(Py.toBig(value).abs());
                throw TemplateException.type("bad operand type for abs(): '" + Py.typeName(raw) + "'");
            }
            case "round" -> {
                return round(value, Py.toLong(a.get(0, "precision", 0L)), Py.str(a.get(1, "method", "common")));
            }
            case "tojson" -> {
                Object ensureAscii = a.get(0, "ensure_ascii", false);
                Object ind = a.get(1, "indent", null);
                Object seps = a.get(2, "separators", null);
                boolean sort = Py.truthy(a.get(3, "sort_keys", false));
                String indent = ind == null ? null : ind instanceof String s ? s : " ".repeat((int) Math.max(0, Math.min(1000, Py.toLong(ind))));
                if (indent != null) in.budget.string(indent.length());
                String itemSep = null, keySep = null;
                if (seps != null) {
                    List<Object> sp = Py.iterate(seps);
                    if (sp.size() != 2) throw TemplateException.value("separators must be a pair");
                    itemSep = Py.str(sp.get(0));
                    keySep = Py.str(sp.get(1));
                }
                return new Json(in, indent, itemSep, keySep, sort, Py.truthy(ensureAscii)).dumps(value);
            }
            case "items" -> {
                if (value instanceof Undefined) return View.generator(new ArrayList<>());
                if (!(value instanceof Map<?, ?> m)) throw TemplateException.type("Can only get item pairs from a mapping.");
                in.budget.pairs(m.size());
                List<Object> out = new ArrayList<>();
                for (var e : m.entrySet()) out.add(new Tuple(e.getKey(), e.getValue()));
                return View.generator(out);
            }
            case "dictsort" -> {
                if (value instanceof Undefined u) throw u.error();
                if (!(value instanceof Map<?, ?> m)) throw new TemplateException("AttributeError", "'" + Py.typeName(raw) + "' object has no attribute 'items'");
                boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
                String by = Py.str(a.get(1, "by", "key"));
                boolean rev = Py.truthy(a.get(2, "reverse", false));
                int pos = by.equals("key") ? 0 : by.equals("value") ? 1 : -1;
                if (pos < 0) throw new TemplateException("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
                in.budget.pairs(m.size());
                List<Object> out = new ArrayList<>();
                for (var e : m.entrySet()) out.add(new Tuple(e.getKey(), e.getValue()));
                sorting(in, out.size());
                out.sort((x, y) -> Py.compare(sortKey(((Tuple) x).get(pos), cs), sortKey(((Tuple) y).get(pos), cs), "<"));
                if (rev) java.util.Collections.reverse(out);
                return out;
            }
            case "sort" -> {
                boolean rev = Py.truthy(a.get(0, "reverse", false));
                boolean cs = Py.truthy(a.get(1, "case_sensitive", false));
                Object attr = a.get(2, "attribute", null);
                List<Object> l = Py.iterate(value);
                in.budget.copyOf(l);
                List<Object> out = new ArrayList<>(l);
                sorting(in, out.size());
                // jinja2 sorts on a list of keys, so equal keys (Undefined ones included) never reach '<'.
                Comparator<Object> cmp = (x, y) -> {
                    Object kx = sortKey(attr == null ? x : attrGet(x, attr), cs), ky = sortKey(attr == null ? y : attrGet(y, attr), cs);
                    return Py.eq(kx, ky) ? 0 : Py.compare(kx, ky, "<");
                };
                out.sort(rev ? cmp.reversed() : cmp);
                return out;
            }
            case "unique" -> {
                boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
                Object attr = a.get(1, "attribute", null);
                List<Object> seen = new ArrayList<>(), out = new ArrayList<>();
                List<Object> l = Py.iterate(value);
                in.budget.copyOf(l);
                in.budget.copyOf(l);
                for (Object o : l) {
                    in.step(1 + seen.size() / 4);
                    Object k = sortKey(attr == null ? o : attrGet(o, attr), cs);
                    boolean dup = false;
                    for (Object s : seen) if (Py.eq(s, k)) { dup = true; break; }
                    if (!dup) {
                        seen.add(k);
                        out.add(o);
                    }
                }
                return View.generator(out);
            }
            case "min", "max" -> {
                boolean cs = Py.truthy(a.get(0, "case_sensitive", false));
                Object attr = a.get(1, "attribute", null);
                List<Object> l = Py.iterate(value);
                if (l.isEmpty()) return new Undefined(null, Undefined.NO_OBJECT, "No aggregated item, sequence was empty.", "UndefinedError");
                Object best = l.getFirst();
                for (Object o : l.subList(1, l.size())) {
                    in.step();
                    int c = Py.compare(sortKey(attr == null ? o : attrGet(o, attr), cs), sortKey(attr == null ? best : attrGet(best, attr), cs),
                            name.equals("min") ? "<" : ">");
                    if (name.equals("min") ? c < 0 : c > 0) best = o;
                }
                return best;
            }
            case "sum" -> {
                Object attr = a.get(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object o : Py.iterate(value)) {
                    in.step();
                    total = Ops.binary(in, "+", Py.unwrap(total), Py.unwrap(attr == null ? o : attrGet(o, attr)));
                }
                return total;
            }
            case "reverse" -> {
                if (value instanceof String s) return Strs.slice(s, new Ops.Slice(null, null, -1L));
                if (!Py.isIterable(value)) throw new TemplateException("FilterArgumentError", "argument must be iterable");
                List<Object> items = Py.iterate(value);
                in.budget.copyOf(items);
                List<Object> l = new ArrayList<>(items);
                java.util.Collections.reverse(l);
                if (value instanceof List<?> && !(value instanceof Tuple)) return new View("list_reverseiterator", l, true, false);
                if (value instanceof Tuple) return new View("reversed", l, true, false);
                return l;
            }
            case "map" -> {
                List<Object> out = new ArrayList<>();
                if (args.isEmpty() && kwargs.containsKey("attribute")) {
                    Object attr = kwargs.get("attribute");
                    Object def = kwargs.get("default");
                    for (Object o : Py.iterate(value)) {
                        grow(in);
                        Object v = attrGet(o, attr);
                        out.add(v instanceof Undefined && kwargs.containsKey("default") ? def : v);
                    }
                } else {
                    if (args.isEmpty()) throw new TemplateException("FilterArgumentError", "map requires a filter argument");
                    String f = Py.str(args.getFirst());
                    if (!NAMES.contains(f)) throw new TemplateException("TemplateRuntimeError", "No filter named " + Py.repr(f) + ".");
                    List<Object> rest = args.subList(1, args.size());
                    for (Object o : Py.iterate(value)) {
                        grow(in);
                        out.add(apply(in, f, o, rest, kwargs, scope));
                    }
                }
                return View.generator(out);
            }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                if (!args.isEmpty()) checkTest(Py.str(args.getFirst()));
                for (Object o : Py.iterate(value)) {
                    grow(in);
                    boolean ok = args.isEmpty() ? Py.truthy(o) : Py.truthy(Tests.apply(in, Py.str(args.getFirst()), o, args.subList(1, args.size()), scope));
                    if (ok == name.equals("select")) out.add(o);
                }
                return View.generator(out);
            }
            case "selectattr", "rejectattr" -> {
                Object attr = a.req(0, "attribute");
                if (args.size() >= 2) checkTest(Py.str(args.get(1)));
                List<Object> out = new ArrayList<>();
                for (Object o : Py.iterate(value)) {
                    grow(in);
                    Object v = attrGet(o, attr);
                    boolean ok = args.size() < 2 ? Py.truthy(v) : Py.truthy(Tests.apply(in, Py.str(args.get(1)), v, args.subList(2, args.size()), scope));
                    if (ok == name.equals("selectattr")) out.add(o);
                }
                return View.generator(out);
            }
            case "attr" -> {
                return Ops.attrOnly(value, Py.str(a.req(0, "name")));
            }
            case "batch" -> {
                long n = Py.toLong(a.req(0, "linecount"));
                Object fill = a.get(1, "fill_with", null);
                List<Object> items = Py.iterate(value);
                // Every item lands in one batch and the last batch may be padded to n: all sized before building.
                long last = n <= 0 ? items.size() : items.size() % n == 0 ? n : items.size() % n;
                in.budget.copyOf(items);
                in.budget.list(fill != null && !items.isEmpty() ? Math.max(0, n - last) : 0);
                long batches = n <= 0 ? 2 : (items.size() + n - 1) / n;
                in.budget.list(batches);
                in.budget.lists(batches);
                List<Object> out = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                // jinja2's loop as written: a batch size of 0 or less yields an empty batch, then everything.
                for (Object o : items) {
                    in.step();
                    if (cur.size() == n) {
                        out.add(cur);
                        cur = new ArrayList<>();
                    }
                    cur.add(o);
                }
                if (!cur.isEmpty()) {
                    if (fill != null) while (cur.size() < n) cur.add(fill);
                    out.add(cur);
                }
                return View.generator(out);
            }
            case "slice" -> {
                long slices = Py.toLong(a.req(0, "slices"));
                if (slices == 0) throw new TemplateException("ZeroDivisionError", "integer division or modulo by zero");
                Object fill = a.get(1, "fill_with", null);
                List<Object> seq = Py.iterate(value);
                if (slices < 0) return View.generator(new ArrayList<>());
                in.budget.list(slices);
                in.budget.lists(slices);
                in.budget.copyOf(seq);
                in.budget.list(fill != null ? slices : 0);
                int len = seq.size();
                int per = (int) (len / slices), extra = (int) (len % slices), offset = 0;
                List<Object> out = new ArrayList<>();
                for (int i = 0; i < slices; i++) {
                    int start = offset + i * per;
                    if (i < extra) offset++;
                    int end = offset + (i + 1) * per;
                    List<Object> tmp = new ArrayList<>(seq.subList(start, end));
                    if (fill != null && i >= extra) tmp.add(fill);
                    out.add(tmp);
                }
                return View.generator(out);
            }
            case "groupby" -> {
                Object attr = a.req(0, "attribute");
                Object def = a.get(1, "default", null);
                boolean cs = Py.truthy(a.get(2, "case_sensitive", false));
                List<Object> l = Py.iterate(value);
                in.budget.copyOf(l);
                in.budget.list(l.size());
                in.budget.pairs(l.size());
                in.budget.lists(l.size());
                List<Object> items = new ArrayList<>(l);
                sorting(in, items.size());
                java.util.function.Function<Object, Object> key = o -> {
                    Object v = attrGet(o, attr);
                    return v instanceof Undefined && def != null ? def : v;
                };
                items.sort((x, y) -> Py.compare(sortKey(key.apply(x), cs), sortKey(key.apply(y), cs), "<"));
                List<Object> out = new ArrayList<>();
                Object curKey = null;
                List<Object> cur = null;
                for (Object o : items) {
                    Object k = key.apply(o);
                    if (cur == null || !Py.eq(sortKey(k, cs), sortKey(curKey, cs))) {
                        if (cur != null) out.add(new Tuple(curKey, cur));
                        curKey = k;
                        cur = new ArrayList<>();
                    }
                    cur.add(o);
                }
                if (cur != null) out.add(new Tuple(curKey, cur));
                return out;
            }
            case "pprint" -> {
                return Py.repr(sortedDicts(raw, 0)); // pprint sorts dict keys (it also wraps past 80 columns, not done here)
            }
            default -> throw new TemplateException("TemplateRuntimeError", "No filter named " + Py.repr(name) + " found.");
        }
    }

    private static Object sortedDicts(Object v, int depth) {
        if (depth > Py.MAX_VALUE_DEPTH) return v;
        Budget budget = Budget.current();
        budget.step();
        if (v instanceof Map<?, ?> m) {
            budget.dict(2L * m.size());
            sorting(null, m.size());
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            entries.sort((x, y) -> {
                Object a = Py.unwrap(x.getKey()), b = Py.unwrap(y.getKey());
                boolean comparable = Py.isNumber(a) && Py.isNumber(b) || Py.typeName(a).equals(Py.typeName(b));
                try {
                    return comparable ? Py.compare(a, b, "<") : Py.typeName(a).compareTo(Py.typeName(b));
                } catch (TemplateException e) {
                    return 0;
                }
            });
            Map<Object, Object> out = new LinkedHashMap<>();
            for (var e : entries) out.put(e.getKey(), sortedDicts(e.getValue(), depth + 1));
            return out;
        }
        if (v instanceof Tuple t) {
            budget.list(2L * t.size());
            List<Object> out = new ArrayList<>();
            for (Object o : t) out.add(sortedDicts(o, depth + 1));
            return new Tuple(out);
        }
        if (v instanceof List<?> l && !(v instanceof Values.Range)) {
            budget.list(l.size());
            List<Object> out = new ArrayList<>();
            for (Object o : l) out.add(sortedDicts(o, depth + 1));
            return out;
        }
        return v;
    }

    /** Tests named by select/reject and friends are looked up by name at run time, with this message. */
    private static void checkTest(String name) {
        if (!Tests.NAMES.contains(name)) throw new TemplateException("TemplateRuntimeError", "No test named " + Py.repr(name) + ".");
    }

    /** jinja2's attribute getter for filters: "a.b.0" walks items/attributes, missing gives Undefined. */
    static Object attrGet(Object o, Object attr) {
        if (Py.isInt(attr)) return Ops.getItem(Py.unwrap(o), attr);
        Object v = o;
        String path = Py.str(attr);
        if (path.length() >= 32) Budget.current().scan(path.length());
        for (String part : path.split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? Py.normInt(Py.parseDecimal(part, false)) : part;
            v = Ops.getItem(Py.unwrap(v), key);
            if (v instanceof Undefined) return v;
        }
        return v;
    }

    /** jinja2's case-insensitive sort key: {@code value.lower()} for strings. */
    private static Object sortKey(Object v, boolean caseSensitive) {
        v = Py.unwrap(v);
        return !caseSensitive && v instanceof String s ? Strs.lower(s) : v;
    }

    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    /** Sorting {@code n} items: about n log2 n comparisons, each at least a step (comparisons of long values charge more). */
    private static void sorting(Interpreter in, long n) {
        Budget b = in != null ? in.budget : Budget.current();
        b.step(n * (64 - Long.numberOfLeadingZeros(n)));
    }

    /**
     * One more item in a list a filter is building. The item may be new too (a number boxed from a range,
     * an Undefined for a missing attribute, a bound method): charged as a small object.
     */
    private static void grow(Interpreter in) {
        in.step();
        in.budget.alloc(Budget.LIST_SLOT + 32);
    }

    /** A string built from pieces, checked and charged as it grows (joins can repeat one long string many times). */
    static final class Joiner {
        private final Budget b;
        private final String sep;
        private final StringBuilder sb = new StringBuilder();
        private boolean first = true;

        Joiner(Budget b, String sep) {
            this.b = b;
            this.sep = sep;
        }

        void add(String piece) {
            b.step();
            long more = (first ? 0 : sep.length()) + (long) piece.length();
            b.size(sb.length() + more);
            b.chars(more);
            if (!first) sb.append(sep);
            first = false;
            sb.append(piece);
        }

        String result() {
            b.string(sb.length());
            b.free(2L * sb.length());
            return sb.toString();
        }
    }

    /**
     * markupsafe's striptags loop, {@code while (start := v.find(open)) != -1 and (end := v.find(close, start)) != -1:
     * v = v[:start] + v[end + len(close):]}, in one linear pass. The current text is {@code out + s[i:]};
     * {@code out} never holds {@code open} except in its last {@code open.length() - 1} characters (a removal
     * can join two pieces into a new one), so only those few characters are looked at again.
     */
    static String removeAll(String s, String open, String close) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (true) {
            int outLen = out.length(), start = -1;
            for (int p = Math.max(0, outLen - open.length() + 1); p < outLen && start < 0; p++) if (matchesAt(out, s, i, p, open)) start = p;
            if (start < 0) {
                int at = Strs.indexOf(s, open, i);
                if (at < 0) break;
                start = outLen + (at - i);
            }
            int end = -1;
            for (int p = start; p < outLen && end < 0; p++) if (matchesAt(out, s, i, p, close)) end = p;
            if (end < 0) {
                int at = Strs.indexOf(s, close, i + Math.max(0, start - outLen));
                if (at < 0) break;
                end = outLen + (at - i);
            }
            int cut = end + close.length();
            if (cut < outLen) {
                // The closing mark ended inside out (impossible for the marks striptags uses): keep it simple.
                s = out.substring(cut) + s.substring(i);
                i = 0;
                out.setLength(start);
                continue;
            }
            if (start >= outLen) out.append(s, i, i + (start - outLen));
            else out.setLength(start);
            i += cut - outLen;
        }
        out.append(s, i, s.length());
        return out.toString();
    }

    /** Whether {@code pat} occurs at position {@code p} of the text {@code out + s[i:]}. */
    private static boolean matchesAt(StringBuilder out, String s, int i, int p, String pat) {
        int n = out.length() + s.length() - i;
        if (p + pat.length() > n) return false;
        for (int k = 0; k < pat.length(); k++) {
            int q = p + k;
            char c = q < out.length() ? out.charAt(q) : s.charAt(i + q - out.length());
            if (c != pat.charAt(k)) return false;
        }
        return true;
    }

    private static String indent(Interpreter in, String s, Object width, boolean first, boolean blank) {
        s += "\n";
        List<Object> lines = Strs.splitlines(s, false);
        // Size the result before building the indentation: width may be huge where it is never used.
        long uses = first ? 1 : 0, chars = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = (String) lines.get(i);
            chars += line.length() + 1;
            if (i > 0 && (blank || !line.isEmpty())) uses++;
        }
        long w = width instanceof String ws ? ws.length() : Math.max(0, Py.toLong(width));
        in.checkLength(chars + Budget.mul(uses, w));
        String ind = uses == 0 ? "" : width instanceof String ws ? ws : " ".repeat((int) w);
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) rv.append('\n').append(ind);
                rv.append((String) lines.get(i));
            }
        } else {
            rv.append((String) lines.getFirst());
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                rv.append('\n');
                if (!line.isEmpty()) rv.append(ind);
                rv.append(line);
            }
        }
        return first ? ind + rv : rv.toString();
    }

    private static String truncate(String s, long length, boolean killwords, String end, Object leeway) {
        long lw = leeway == null ? 5 : Py.toLong(leeway);
        if (length < end.length()) throw new TemplateException("AssertionError", "expected length >= " + end.length() + ", got " + length);
        if (lw < 0) throw new TemplateException("AssertionError", "expected leeway >= 0, got " + lw);
        int n = Strs.length(s);
        if (n - length <= lw) return s;
        String head = Strs.slice(s, null, length - end.length());
        if (!killwords) head = (String) Strs.split(head, " ", 1, true).getFirst();
        Budget.current().string((long) head.length() + end.length());
        return head + end;
    }

    static Object toInt(Object value, Object def, long base) {
        try {
            if (value instanceof String s && base != 10) {
                String t = s.strip().toLowerCase(Locale.ROOT).replace("_", "");
                if (base == 16 && t.startsWith("0x") || base == 8 && t.startsWith("0o") || base == 2 && t.startsWith("0b")) t = t.substring(2);
                if (base >= 2 && base <= 36 && t.length() * (64 - Long.numberOfLeadingZeros(base)) > 100_000)
                    throw new TemplateException("LimitError", "integer result too large (more than 100,000 bits)");
                return Py.normInt(new java.math.BigInteger(t, (int) base));
            }
            if (Py.isInt(value)) return value instanceof Boolean b ? (b ? 1L : 0L) : value;
            if (value instanceof Double d) {
                if (d.isNaN() || d.isInfinite()) return def;
                return Py.normInt(new BigDecimal(d).toBigInteger());
            }
            if (value instanceof String s) {
                String t = s.strip().replace("_", "");
                try {
                    boolean signed = t.startsWith("-") || t.startsWith("+");
                    return Py.normInt(Py.parseDecimal(signed ? t.substring(1) : t, t.startsWith("-")));
                } catch (NumberFormatException | TemplateException e) {
                    // Python's int() refuses more than 4300 digits with a ValueError, which jinja2 answers with int(float(s)).
                    Object f = toFloat(s, null);
                    return f instanceof Double d && !d.isNaN() && !d.isInfinite() ? Py.normInt(new BigDecimal(d).toBigInteger()) : def;
                }
            }
        } catch (NumberFormatException | ArithmeticException e) {
            return def;
        }
        return def;
    }

    /** Possessive quantifiers: a long run of digits that fails to match must not backtrack quadratically. */
    private static final Pattern FLOAT = Pattern.compile("[+-]?(\\d++\\.?+\\d*+|\\.\\d++)(e[+-]?+\\d++)?+");

    static Object toFloat(Object value, Object def) {
        if (value instanceof Double) return value;
        if (Py.isInt(value)) return Py.toDouble(value);
        if (value instanceof String s) {
            String t = s.strip().toLowerCase(Locale.ROOT).replace("_", "");
            switch (t) {
                case "inf", "+inf", "infinity", "+infinity" -> { return Double.POSITIVE_INFINITY; }
                case "-inf", "-infinity" -> { return Double.NEGATIVE_INFINITY; }
                case "nan", "+nan", "-nan" -> { return Double.NaN; }
                default -> { }
            }
            if (!FLOAT.matcher(t).matches()) return def;
            return Double.parseDouble(t);
        }
        return def;
    }

    private static Object round(Object value, long precision, String method) {
        if (!Set.of("common", "ceil", "floor").contains(method)) throw new TemplateException("FilterArgumentError", "method must be common, ceil or floor");
        if (!Py.isNumber(value)) {
            if (value instanceof Undefined u && !method.equals("common")) throw u.error();
            if (method.equals("common")) throw TemplateException.type("type " + Py.typeName(value) + " doesn't define __round__ method");
            // ceil/floor first compute value * 10 ** precision: sequences repeat, anything else fails there.
            if (value instanceof String || value instanceof List) throw TemplateException.type("must be real number, not " + Py.typeName(value));
            throw TemplateException.type("unsupported operand type(s) for *: '" + Py.typeName(value) + "' and 'int'");
        }
        if (method.equals("common")) {
            if (Py.isInt(value)) return value instanceof Boolean b ? (b ? 1L : 0L) : value;
            double d = (Double) value;
            if (Double.isNaN(d) || Double.isInfinite(d)) return d;
            // Past a double's last fraction digit rounding changes nothing; past its largest power of ten it gives 0.
            if (precision > 1100) return d;
            if (precision < -400) return d < 0 || 1 / d < 0 ? -0.0 : 0.0;
            double r = new BigDecimal(d).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
            return r == 0 && d < 0 ? -0.0 : r;
        }
        double p = Math.pow(10, precision);
        double x = Py.toDouble(value) * p;
        return (method.equals("ceil") ? Math.ceil(x) : Math.floor(x)) / p;
    }
}
