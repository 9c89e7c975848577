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

    Json(Interpreter in, String indent, String itemSep, String keySep, boolean sortKeys, boolean ensureAscii) {
        this.in = in;
        this.indent = indent;
        this.itemSep = itemSep != null ? itemSep : indent != null ? "," : ", ";
        this.keySep = keySep != null ? keySep : ": ";
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    String dumps(Object v) {
        StringBuilder sb = new StringBuilder();
        write(v, sb, 0);
        return sb.toString();
    }

    private void newline(StringBuilder sb, int level) {
        if (indent == null) return;
        sb.append('\n');
        for (int i = 0; i < level; i++) sb.append(indent);
        in.checkLength(sb.length());
    }

    private void write(Object v, StringBuilder sb, int level) {
        if (level > 1000) throw new TemplateException("RecursionError", "maximum recursion depth exceeded while encoding a JSON object");
        in.step();
        v = Py.unwrap(v);
        if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Long || v instanceof java.math.BigInteger) sb.append(v);
        else if (v instanceof Double d) sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
        else if (v instanceof String s) string(s, sb);
        else if (v instanceof List<?> l) {
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
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
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
        } else {
            throw TemplateException.type("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
        in.checkLength(sb.length());
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
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
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
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
