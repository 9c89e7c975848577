package jllm.train.data;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Merges table columns into one text: {@code {Column}} is replaced by the row's value, and
 * {@code [[ ... ]]} marks an optional part.
 *
 * <p>Rules (Unsloth's {@code to_sharegpt} rules, made exact):
 * <ul>
 *   <li>A placeholder must name a real column (exact, case-sensitive); an unknown name is an error that
 *       lists the available columns.</li>
 *   <li>An optional part must contain at least one placeholder, and parts do not nest.</li>
 *   <li>An optional part is dropped when <em>any</em> of its columns is empty (absent, null or only
 *       whitespace). Unsloth looks at the first column only; with several, that would print the
 *       others' empty values inside text written for them ("age  years"). A part whose columns all
 *       have values is kept whole.</li>
 *   <li>Outside optional parts an empty value is inserted as an empty string (and counted, so the
 *       caller can warn).</li>
 *   <li>Values are inserted exactly as they are in the file (no trimming).</li>
 *   <li>Escapes: {@code \{ \} \[ \] \\} for the literal characters, {@code \n} and {@code \t} for a
 *       newline and a tab (a real newline is awkward to type on a command line); any other backslash
 *       sequence is an error.</li>
 * </ul>
 */
public final class PromptTemplate {
    /** A piece of the template: literal text, a column, or an optional part made of pieces. */
    private sealed interface Piece permits Literal, Column, Optional { }
    private record Literal(String text) implements Piece { }
    private record Column(String name) implements Piece { }
    private record Optional(List<Piece> pieces, List<String> columns) implements Piece { }

    private final String source;
    private final List<Piece> pieces;
    private final Set<String> columns;

    private PromptTemplate(String source, List<Piece> pieces, Set<String> columns) {
        this.source = source;
        this.pieces = pieces;
        this.columns = columns;
    }

    /** The template text as given. */
    public String source() { return source; }

    /** The columns it names, in order of first use. */
    public Set<String> columns() { return columns; }

    /** Parses; {@code what} names the option in errors (e.g. "--prompt-template"). */
    public static PromptTemplate parse(String what, String source) {
        List<Piece> top = new ArrayList<>();
        List<Piece> cur = top;
        List<String> blockColumns = null;
        int blockStart = -1;
        Set<String> all = new LinkedHashSet<>();
        StringBuilder lit = new StringBuilder();
        int n = source.length();
        for (int i = 0; i < n; i++) {
            char c = source.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) throw bad(what, source, i, "a lone backslash at the end");
                char e = source.charAt(++i);
                switch (e) {
                    case '{', '}', '[', ']', '\\' -> lit.append(e);
                    case 'n' -> lit.append('\n');
                    case 't' -> lit.append('\t');
                    default -> throw bad(what, source, i - 1, "unknown escape \\" + e + " (use \\{ \\} \\[ \\] \\\\ \\n \\t)");
                }
            } else if (c == '{') {
                int end = source.indexOf('}', i + 1);
                if (end < 0) throw bad(what, source, i, "'{' is not closed by '}' (write \\{ for a literal brace)");
                String name = source.substring(i + 1, end);
                if (name.isEmpty()) throw bad(what, source, i, "empty placeholder {} (name a column, or write \\{\\} for braces)");
                if (name.contains("{")) throw bad(what, source, i, "'{' inside a placeholder");
                flush(lit, cur);
                cur.add(new Column(name));
                all.add(name);
                if (blockColumns != null) blockColumns.add(name);
                i = end;
            } else if (c == '}') {
                throw bad(what, source, i, "'}' without '{' (write \\} for a literal brace)");
            } else if (c == '[' && i + 1 < n && source.charAt(i + 1) == '[') {
                if (blockColumns != null) throw bad(what, source, i, "optional parts [[ ]] cannot be nested");
                flush(lit, cur);
                cur = new ArrayList<>();
                blockColumns = new ArrayList<>();
                blockStart = i;
                i++;
            } else if (c == ']' && i + 1 < n && source.charAt(i + 1) == ']') {
                if (blockColumns == null) throw bad(what, source, i, "']]' without '[['");
                flush(lit, cur);
                if (blockColumns.isEmpty()) throw bad(what, source, blockStart, "an optional part [[ ]] must contain at least one {column}");
                top.add(new Optional(List.copyOf(cur), List.copyOf(blockColumns)));
                cur = top;
                blockColumns = null;
                i++;
            } else {
                lit.append(c);
            }
        }
        if (blockColumns != null) throw bad(what, source, blockStart, "'[[' is not closed by ']]'");
        flush(lit, cur);
        if (all.isEmpty()) throw new DatasetException(what + " names no {column}: every row would give the same text");
        return new PromptTemplate(source, List.copyOf(top), all);
    }

    private static void flush(StringBuilder lit, List<Piece> into) {
        if (lit.length() > 0) into.add(new Literal(lit.toString()));
        lit.setLength(0);
    }

    private static DatasetException bad(String what, String source, int at, String why) {
        return new DatasetException(what + ": " + why + " at character " + (at + 1) + ": " + excerpt(source, at));
    }

    private static String excerpt(String s, int at) {
        int from = Math.max(0, at - 20), to = Math.min(s.length(), at + 20);
        return (from > 0 ? "…" : "") + s.substring(from, to) + (to < s.length() ? "…" : "");
    }

    /**
     * Checks that every column exists; the error names the missing ones and lists those available
     * (with a case-insensitive near miss suggested).
     */
    public void checkColumns(String what, String file, Collection<String> available) {
        List<String> missing = new ArrayList<>();
        for (String c : columns) if (!available.contains(c)) missing.add(c);
        if (missing.isEmpty()) return;
        StringBuilder m = new StringBuilder(what + " names ");
        m.append(missing.size() == 1 ? "a column that " + file + " does not have: " : "columns that " + file + " does not have: ");
        for (int i = 0; i < missing.size(); i++) {
            if (i > 0) m.append(", ");
            m.append('{').append(missing.get(i)).append('}');
            for (String a : available) {
                if (a.toLowerCase(Locale.ROOT).equals(missing.get(i).toLowerCase(Locale.ROOT))) m.append(" (did you mean {").append(a).append("}?)");
            }
        }
        m.append("; available columns: ").append(String.join(", ", available));
        throw new DatasetException(m.toString());
    }

    /** The text for a row, and the columns that were empty outside optional parts. */
    public record Result(String text, List<String> emptyRequired) { }

    public Result render(Row row) {
        StringBuilder out = new StringBuilder();
        List<String> empty = new ArrayList<>(0);
        for (Piece p : pieces) {
            switch (p) {
                case Literal l -> out.append(l.text);
                case Column c -> {
                    String v = row.text(c.name);
                    if (Row.isEmpty(v)) empty.add(c.name);
                    if (v != null) out.append(v);
                }
                case Optional o -> {
                    boolean keep = true;
                    for (String c : o.columns) if (Row.isEmpty(row.text(c))) { keep = false; break; }
                    if (!keep) break;
                    for (Piece q : o.pieces) {
                        if (q instanceof Literal l) out.append(l.text);
                        else out.append(row.text(((Column) q).name));
                    }
                }
            }
        }
        return new Result(out.toString(), empty);
    }

    @Override public String toString() { return source; }
}
