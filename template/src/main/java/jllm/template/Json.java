package jllm.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jllm.template.Values.*;

/** Python's {@code json.dumps}, with the options transformers' {@code tojson} filter exposes. */
final class Json {
    private final String indent;
    private final String itemSep;
    private final String keySep;
    private final boolean sortKeys;
    private final boolean ensureAscii;
    private final Interpreter in;
    private final Budget budget;
    /** Characters of the output already charged to the budget. */
    private long charged;

    Json(Interpreter in, String indent, String itemSep, String keySep, boolean sortKeys, boolean ensureAscii) {
        this.in = in;
        this.budget = in.budget;
        this.indent = indent;
        this.itemSep = itemSep != null ? itemSep : indent != null ? "," : ", ";
        this.keySep = keySep != null ? keySep : ": ";
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    String dumps(Object v) {
        StringBuilder sb = new StringBuilder();
        write(v, sb, 0);
        budget.string(sb.length());
        budget.free(2 * charged);
        return sb.toString();
    }

    /** Charges what the output grew by since the last call; shared values can make it far larger than the input. */
    private void grown(StringBuilder sb) {
        budget.size(sb.length());
        budget.chars(sb.length() - charged);
        charged = sb.length();
    }

    private void newline(StringBuilder sb, int level) {
        if (indent == null) return;
        budget.size(sb.length() + 1 + Budget.mul(level, indent.length()));
        sb.append('\n');
        for (int i = 0; i < level; i++) sb.append(indent);
        grown(sb);
    }

    private void write(Object v, StringBuilder sb, int level) {
        if (level > Py.MAX_VALUE_DEPTH) throw new TemplateException("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
        in.step();
        v = Py.unwrap(v);
        if (v instanceof List<?> && !(v instanceof Range) || v instanceof Map<?, ?>) {
            budget.enter();
            try {
                container(v, sb, level);
            } finally {
                budget.leave();
            }
        } else if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Long || v instanceof java.math.BigInteger) sb.append(Py.intStr(v));
        else if (v instanceof Double d) sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
        else if (v instanceof String s) string(s, sb);
        else throw TemplateException.type("Object of type " + Py.typeName(v) + " is not JSON serializable");
        grown(sb);
    }

    private void container(Object v, StringBuilder sb, int level) {
        if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(itemSep);
                newline(sb, level + 1);
                write(l.get(i), sb, level + 1);
            }
            newline(sb, level);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            budget.list(m.size());
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sortKeys) budget.step(m.size() * (64L - Long.numberOfLeadingZeros(m.size())));
            if (sortKeys) entries.sort((a, b) -> Py.compare(keyString(a.getKey()), keyString(b.getKey()), "<"));
            sb.append('{');
            boolean first = true;
            for (var e : entries) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(sb, level + 1);
                string(keyString(e.getKey()), sb);
                sb.append(keySep);
                write(e.getValue(), sb, level + 1);
            }
            newline(sb, level);
            sb.append('}');
        }
    }

    private static String keyString(Object k) {
        k = Py.unwrap(k);
        if (k instanceof String s) return s;
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (k instanceof Double d) return d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d);
        if (Py.isInt(k)) return String.valueOf(k);
        throw TemplateException.type("keys must be str, int, float, bool or None, not " + Py.typeName(k));
    }

    private void string(String s, StringBuilder sb) {
        budget.scan(s.length());
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            // Escaping can expand a character six-fold ("\u0001"): keep checking the size as it grows.
            if ((i & 4095) == 4095) budget.size(sb.length());
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) Py.hex(sb, "\\u", c, 4);
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
