package jllm.template;

import java.util.AbstractList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Template-side value types that have no plain Java counterpart. */
final class Values {
    private Values() {
    }

    /** A Python callable: builtins, macros, bound methods. */
    interface PyCallable {
        Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs);
    }

    /** A Python tuple: prints with parentheses and never equals a list. */
    static final class Tuple extends AbstractList<Object> {
        private final Object[] items;

        Tuple(List<?> items) {
            this.items = items.toArray();
        }

        Tuple(Object... items) {
            this.items = items.clone();
        }

        @Override
        public Object get(int i) {
            return items[i];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** Python's range: an indexable, re-iterable sequence that prints as {@code range(a, b)}. */
    static final class Range extends AbstractList<Object> {
        final long start, stop, step;
        private final int size;

        Range(long start, long stop, long step, int size) {
            this.start = start;
            this.stop = stop;
            this.step = step;
            this.size = size;
        }

        @Override
        public Object get(int i) {
            return start + i * step;
        }

        @Override
        public int size() {
            return size;
        }

        String repr() {
            return "range(" + start + ", " + stop + (step != 1 ? ", " + step : "") + ")";
        }
    }

    /**
     * A lazy Python iterable that is not a list: generators (single use, no len), dict views and reverse
     * iterators. Held eagerly here; only the observable Python behaviour is reproduced.
     */
    static final class View {
        final String typeName;
        List<Object> items;
        final boolean singleUse;
        final boolean sized;
        private boolean consumed;
        private java.util.function.Supplier<List<Object>> pending;

        /** A generator whose body runs on first iteration, so its errors surface there, as in Python. */
        static View lazy(java.util.function.Supplier<List<Object>> body) {
            View v = new View("generator", List.of(), true, false);
            v.pending = body;
            return v;
        }

        View(String typeName, List<Object> items, boolean singleUse, boolean sized) {
            this.typeName = typeName;
            this.items = items;
            this.singleUse = singleUse;
            this.sized = sized;
        }

        static View generator(List<Object> items) {
            return new View("generator", items, true, false);
        }

        List<Object> take() {
            if (pending != null && !consumed) {
                var body = pending;
                pending = null;
                // Filters chained in a loop nest generators without bound; Python stops them with a RecursionError.
                Budget b = Budget.current();
                b.enter();
                try {
                    items = body.get();
                } finally {
                    b.leave();
                }
            }
            if (!singleUse) return items;
            if (consumed) return List.of();
            consumed = true;
            return items;
        }
    }

    /** jinja2's {@code namespace()}: the one object templates may assign attributes to. */
    static final class Namespace {
        final Map<String, Object> attrs = new LinkedHashMap<>();
        /**
         * Attributes whose value was built by a concatenation in the statement that set it and has not been
         * read since, with the bytes it was charged: nothing else can hold it, so replacing it frees them.
         */
        private final Map<String, Long> fresh = new java.util.HashMap<>();

        void markFresh(String attr, long charge) {
            if (charge > 0) fresh.put(attr, charge);
            else fresh.remove(attr);
        }

        /** The charge of a fresh attribute (0 if it is not), which stops being fresh: its value is now in use. */
        long takeFresh(String attr) {
            Long c = fresh.remove(attr);
            return c == null ? 0 : c;
        }

        /** Reads of any attribute so far: one during an accumulation means its old value may be kept elsewhere. */
        long reads;

        /** Any read may keep the value elsewhere. */
        Object read(String attr) {
            reads++;
            fresh.remove(attr);
            return attrs.get(attr);
        }
    }

    /** jinja2's Undefined: falsy, prints empty, iterates empty; most other uses raise its error. */
    static final class Undefined {
        static final Object NO_OBJECT = new Object();
        final String name;
        final Object obj;
        final String hint;
        final String kind;

        Undefined(String name, Object obj, String hint, String kind) {
            this.name = name;
            this.obj = obj;
            this.hint = hint;
            this.kind = kind;
        }

        static Undefined named(String name) {
            return new Undefined(name, NO_OBJECT, null, "UndefinedError");
        }

        static Undefined attr(Object obj, Object name) {
            String hint = name instanceof String ? null
                    : Py.objectTypeRepr(obj) + " has no element " + Py.repr(Py.unwrap(name));
            return new Undefined(name instanceof String s ? s : null, obj, hint, "UndefinedError");
        }

        static Undefined unsafe(Object obj, String name) {
            return new Undefined(name, obj, "access to attribute '" + name + "' of '" + Py.typeName(obj)
                    + "' object is unsafe.", "SecurityError");
        }

        TemplateException error() {
            String msg;
            if (hint != null) msg = hint;
            else if (obj == NO_OBJECT) msg = Py.repr(name) + " is undefined";
            else msg = "'" + Py.objectTypeRepr(obj) + "' has no attribute " + Py.repr(name);
            return new TemplateException(kind, msg);
        }
    }

    /**
     * markupsafe's Markup, which {@code safe} and {@code escape} return: concatenating it with {@code +}
     * HTML-escapes the other operand, a behaviour real templates (functionary) depend on.
     */
    record Markup(String s) {
        static String escape(String v) {
            long extra = 0;
            for (int i = 0; i < v.length(); i++) {
                switch (v.charAt(i)) {
                    case '&', '\'' -> extra += 4;
                    case '<', '>' -> extra += 3;
                    case '"' -> extra += 4;
                    default -> { }
                }
            }
            if (extra == 0) {
                Budget.current().scan(v.length());
                return v;
            }
            Budget.current().scan(v.length());
            Budget.current().string(v.length() + extra);
            StringBuilder sb = new StringBuilder((int) (v.length() + extra));
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                switch (c) {
                    case '&' -> sb.append("&amp;");
                    case '<' -> sb.append("&lt;");
                    case '>' -> sb.append("&gt;");
                    case '"' -> sb.append("&#34;");
                    case '\'' -> sb.append("&#39;");
                    default -> sb.append(c);
                }
            }
            return sb.toString();
        }

        static Markup of(Object v) {
            return v instanceof Markup m ? m : new Markup(escape(Py.str(v)));
        }
    }

    /** A global function; {@code pyType} is "type" for those that are classes in Python (dict, range, namespace). */
    record Builtin(String name, String pyType, PyCallable fn) implements PyCallable {
        @Override
        public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
            return fn.call(in, args, kwargs);
        }
    }

    /** A method looked up on a value, e.g. {@code message.content.strip}. */
    record BoundMethod(Object self, String name) implements PyCallable {
        @Override
        public Object call(Interpreter in, List<Object> args, Map<String, Object> kwargs) {
            return Methods.call(in, self, name, args, kwargs);
        }
    }
}
