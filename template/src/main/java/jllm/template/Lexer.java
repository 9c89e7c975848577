package jllm.template;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits template source into tokens with jinja2's whitespace rules as transformers configures them:
 * {@code trim_blocks} (drop the first newline after a block or comment tag) and {@code lstrip_blocks}
 * (drop spaces and tabs before a block or comment tag that starts its line), plus the explicit
 * {@code -} (strip all whitespace) and {@code +} (keep it) markers.
 */
final class Lexer {
    private static final String[] OPS = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "<", ">",
            "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";"};

    private final String src;
    private final List<Token> out = new ArrayList<>();
    /** Tokens are charged like values, so a huge template source is refused instead of exhausting the heap. */
    private final Budget budget = Budget.current();
    private int pos;
    private int line = 1;

    private Lexer(String src) {
        // jinja2 normalizes newlines in template data to "\n" (its default newline_sequence).
        String s = src.replace("\r\n", "\n").replace('\r', '\n');
        // keep_trailing_newline=False: jinja2 drops one newline at the very end of the template.
        this.src = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    private void emit(Token t) {
        budget.step();
        budget.alloc(64 + (t.value() instanceof String v ? 2L * v.length() : 0));
        out.add(t);
    }

    static List<Token> tokenize(String src) {
        Lexer l = new Lexer(src);
        l.run();
        return l.out;
    }

    private void run() {
        while (true) {
            int idx = findTagStart(pos);
            String text = src.substring(pos, idx < 0 ? src.length() : idx);
            if (idx < 0) {
                emitText(text);
                break;
            }
            char kind = src.charAt(idx + 1);
            char marker = idx + 2 < src.length() ? src.charAt(idx + 2) : 0;
            if (marker == '-') {
                text = rstripWs(text);
            } else if (marker != '+' && kind != '{') {
                int lpos = text.lastIndexOf('\n') + 1;
                boolean lineStarting = pos == 0 || src.charAt(pos - 1) == '\n';
                if ((lpos > 0 || lineStarting) && onlySpacesTabs(text, lpos)) text = text.substring(0, lpos);
            }
            emitText(text);
            int p = idx + 2 + (marker == '-' || marker == '+' ? 1 : 0);
            line += count(src, pos, p);
            pos = p;
            if (kind == '#') comment(p);
            else if (kind == '%' && rawStart(p) >= 0) raw(rawStart(p));
            else tag(kind, p);
        }
        emit(new Token(Token.Type.EOF, null, line));
    }

    private int findTagStart(int from) {
        int i = from;
        while ((i = src.indexOf('{', i)) >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
            i++;
        }
        return -1;
    }

    private void emitText(String text) {
        if (!text.isEmpty()) emit(new Token(Token.Type.TEXT, text, line));
    }

    /** Consumes a tag end at {@code p} ("-%}", "+%}", "%}" and the like) and applies its whitespace rule. */
    private void endTag(int p, String close, boolean trimNewline) {
        int q;
        if (src.startsWith("-" + close, p)) {
            q = p + 1 + close.length();
            while (q < src.length() && isWs(src.charAt(q))) q++;
        } else if (src.startsWith("+" + close, p)) {
            q = p + 1 + close.length();
        } else {
            q = p + close.length();
            if (trimNewline && q < src.length() && src.charAt(q) == '\n') q++;
        }
        line += count(src, pos, q);
        pos = q;
    }

    private void comment(int p) {
        int end = src.indexOf("#}", p);
        if (end < 0) throw TemplateException.syntax("missing end of comment tag", line);
        int at = end > p && (src.charAt(end - 1) == '-' || src.charAt(end - 1) == '+') ? end - 1 : end;
        endTag(at, "#}", true);
    }

    /** Returns the index just after "raw ... %}" when the block tag at {@code p} is a raw block, else -1. */
    private int rawStart(int p) {
        int q = skipWs(p);
        if (!src.startsWith("raw", q)) return -1;
        q = skipWs(q + 3);
        if (src.startsWith("-%}", q)) {
            q += 3;
            while (q < src.length() && isWs(src.charAt(q))) q++;
            return q;
        }
        // jinja2's raw rule knows no "+%}": such a tag falls through to an (unknown) block tag named raw.
        return src.startsWith("%}", q) ? q + 2 : -1;
    }

    private void raw(int start) {
        int search = start;
        while (true) {
            int at = src.indexOf("{%", search);
            if (at < 0) throw TemplateException.syntax("missing endraw", line);
            int q = at + 2;
            boolean strip = q < src.length() && src.charAt(q) == '-';
            if (strip || (q < src.length() && src.charAt(q) == '+')) q++;
            q = skipWs(q);
            if (src.startsWith("endraw", q)) {
                int e = skipWs(q + 6);
                if (src.startsWith("%}", e) || src.startsWith("-%}", e) || src.startsWith("+%}", e)) {
                    String body = src.substring(start, at);
                    emitText(strip ? rstripWs(body) : body);
                    line += count(src, pos, e);
                    pos = e;
                    endTag(e, "%}", true);
                    return;
                }
            }
            search = at + 2;
        }
    }

    private void tag(char kind, int p) {
        boolean var = kind == '{';
        emit(new Token(var ? Token.Type.VAR_BEGIN : Token.Type.BLOCK_BEGIN, null, line));
        String close = var ? "}}" : "%}";
        int depth = 0;
        while (true) {
            p = skipWsCountingLines(p);
            if (p >= src.length()) throw TemplateException.syntax("unexpected end of template inside a tag", line);
            if (depth == 0 && (src.startsWith(close, p) || src.startsWith("-" + close, p)
                    || (!var && src.startsWith("+" + close, p)))) {
                emit(new Token(var ? Token.Type.VAR_END : Token.Type.BLOCK_END, null, line));
                pos = p;
                endTag(p, close, !var);
                return;
            }
            char c = src.charAt(p);
            if (Character.isLetter(c) || c == '_') {
                int q = p + 1;
                while (q < src.length() && (Character.isLetterOrDigit(src.charAt(q)) || src.charAt(q) == '_')) q++;
                emit(new Token(Token.Type.NAME, src.substring(p, q), line));
                p = q;
            } else if (c >= '0' && c <= '9') {
                p = number(p);
            } else if (c == '\'' || c == '"') {
                int q = string(p, c);
                line += count(src, p, q); // string literals may span lines
                p = q;
            } else {
                String op = null;
                for (String o : OPS) if (src.startsWith(o, p)) { op = o; break; }
                if (op == null) throw TemplateException.syntax("unexpected character '" + c + "'", line);
                if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
                if ((op.equals(")") || op.equals("]") || op.equals("}")) && depth > 0) depth--;
                emit(new Token(Token.Type.OP, op, line));
                p += op.length();
            }
        }
    }

    private int number(int p) {
        int q = p;
        int radix0 = src.startsWith("0x", p) ? 16 : src.startsWith("0o", p) ? 8 : src.startsWith("0b", p) ? 2 : 0;
        // A prefix without digits ("0x") is the integer 0 followed by a name, as in jinja2.
        if (radix0 > 0 && p + 2 < src.length() && Character.digit(src.charAt(p + 2), radix0) >= 0) {
            int radix = radix0;
            q = p + 2;
            while (q < src.length() && (Character.digit(src.charAt(q), radix) >= 0 || src.charAt(q) == '_')) q++;
            String digits = src.substring(p + 2, q).replace("_", "");
            if ((long) digits.length() * (radix == 16 ? 4 : radix == 8 ? 3 : 1) > 100_000)
                throw new TemplateException("LimitError", "integer literal too large (more than 100,000 bits) on line " + line);
            emit(new Token(Token.Type.INT, Py.normInt(new BigInteger(digits, radix)), line));
            return q;
        }
        while (q < src.length() && (Character.isDigit(src.charAt(q)) || src.charAt(q) == '_')) q++;
        boolean isFloat = false;
        if (q + 1 < src.length() && src.charAt(q) == '.' && Character.isDigit(src.charAt(q + 1))) {
            isFloat = true;
            q++;
            while (q < src.length() && (Character.isDigit(src.charAt(q)) || src.charAt(q) == '_')) q++;
        }
        if (q < src.length() && (src.charAt(q) == 'e' || src.charAt(q) == 'E')) {
            int e = q + 1;
            if (e < src.length() && (src.charAt(e) == '+' || src.charAt(e) == '-')) e++;
            if (e < src.length() && Character.isDigit(src.charAt(e))) {
                isFloat = true;
                q = e;
                while (q < src.length() && (Character.isDigit(src.charAt(q)) || src.charAt(q) == '_')) q++;
            }
        }
        String text = src.substring(p, q).replace("_", "");
        emit(isFloat ? new Token(Token.Type.FLOAT, Double.parseDouble(text), line)
                : new Token(Token.Type.INT, Py.normInt(Py.parseDecimal(text, false)), line));
        return q;
    }

    /** Python string literal escapes, as jinja2 decodes them (unknown escapes stay as written). */
    private int string(int p, char quote) {
        StringBuilder sb = new StringBuilder();
        int q = p + 1;
        while (true) {
            if (q >= src.length()) throw TemplateException.syntax("unterminated string", line);
            char c = src.charAt(q);
            if (c == quote) break;
            if (c == '\\' && q + 1 < src.length()) {
                char n = src.charAt(q + 1);
                q += 2;
                switch (n) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case '\\' -> sb.append('\\');
                    case '\'' -> sb.append('\'');
                    case '"' -> sb.append('"');
                    case 'a' -> sb.append('\u0007');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'v' -> sb.append('\u000b');
                    case '\n' -> { }
                    case 'N' -> {
                        int close = src.indexOf('}', q);
                        int cp = -1;
                        if (q < src.length() && src.charAt(q) == '{' && close > q + 1) {
                            try {
                                cp = Character.codePointOf(src.substring(q + 1, close));
                            } catch (IllegalArgumentException e) {
                                cp = -1;
                            }
                        }
                        if (cp < 0) throw TemplateException.syntax("malformed \\N character escape", line);
                        sb.appendCodePoint(cp);
                        q = close + 1;
                    }
                    case 'x', 'u', 'U' -> {
                        int len = n == 'x' ? 2 : n == 'u' ? 4 : 8;
                        if (q + len > src.length()) throw TemplateException.syntax("truncated \\" + n + " escape", line);
                        try {
                            sb.appendCodePoint(Integer.parseInt(src.substring(q, q + len), 16));
                        } catch (IllegalArgumentException e) {
                            throw TemplateException.syntax("bad \\" + n + " escape", line);
                        }
                        q += len;
                    }
                    default -> {
                        if (n >= '0' && n <= '7') {
                            int e = q - 1, v = 0;
                            while (e < src.length() && e < q + 2 && src.charAt(e) >= '0' && src.charAt(e) <= '7') v = v * 8 + (src.charAt(e++) - '0');
                            sb.append((char) v);
                            q = e;
                        } else sb.append('\\').append(n);
                    }
                }
                continue;
            }
            sb.append(c);
            q++;
        }
        // Adjacent string literals concatenate, as in Python.
        Token prev = out.isEmpty() ? null : out.getLast();
        if (prev != null && prev.type() == Token.Type.STRING) out.set(out.size() - 1, new Token(Token.Type.STRING, prev.value() + sb.toString(), prev.line()));
        else emit(new Token(Token.Type.STRING, sb.toString(), line));
        return q + 1;
    }

    private int skipWs(int p) {
        while (p < src.length() && isWs(src.charAt(p))) p++;
        return p;
    }

    private int skipWsCountingLines(int p) {
        while (p < src.length() && isWs(src.charAt(p))) {
            if (src.charAt(p) == '\n') line++;
            p++;
        }
        return p;
    }

    static boolean isWs(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000b';
    }

    private static String rstripWs(String s) {
        int e = s.length();
        while (e > 0 && isWs(s.charAt(e - 1))) e--;
        return s.substring(0, e);
    }

    private static boolean onlySpacesTabs(String s, int from) {
        for (int i = from; i < s.length(); i++) if (s.charAt(i) != ' ' && s.charAt(i) != '\t') return false;
        return true;
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to && i < s.length(); i++) if (s.charAt(i) == '\n') n++;
        return n;
    }
}
