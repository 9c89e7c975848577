package jllm.train.export;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An interpreter for the subset of Go's {@code text/template} that {@link OllamaTemplate} emits, so an
 * exported Modelfile's TEMPLATE can be rendered and compared with the Jinja chat template it was
 * translated from (Ollama itself runs Go's engine).
 *
 * <p>Supported: text; actions with {@code {{-}}/{@code -}}} trimming; pipelines of one command;
 * arguments: fields ({@code .Role}, {@code $.Messages}, {@code $m.Content}), variables, double-quoted
 * string literals with Go escapes, integers, {@code true}/{@code false}, parenthesised commands with a
 * field chain after them ({@code (index $.Messages 0).Role}); {@code if}/{@code else if}/{@code else},
 * {@code range} over a list (with {@code $i, $m :=}), {@code end}; {@code $x := v} and {@code $x = v}
 * with Go's scoping; functions {@code eq} (any number of operands), {@code ne}, {@code not},
 * {@code and}, {@code or} (short-circuit, returning an operand as Go does), {@code len}, {@code index},
 * {@code slice}. Anything else is a parse error, which a test would surface.
 */
public final class GoTemplate {
    private sealed interface Node permits Text, Action, If, Range { }
    private record Text(String text) implements Node { }
    /** Prints the value unless it is an assignment ({@code declare}: := , {@code assign}: =). */
    private record Action(String var, boolean declare, Expr expr) implements Node { }
    private record If(List<Expr> conds, List<List<Node>> bodies, List<Node> otherwise) implements Node { }
    private record Range(String indexVar, String elemVar, Expr over, List<Node> body) implements Node { }

    private sealed interface Expr permits Lit, Field, Call { }
    private record Lit(Object value) implements Expr { }
    /** base: "." (dot), "$" (root) or a variable name "$x" or a nested expression; then field names. */
    private record Field(String base, Expr inner, List<String> chain) implements Expr { }
    private record Call(String fn, List<Expr> args) implements Expr { }

    private final List<Node> root;

    private GoTemplate(List<Node> root) { this.root = root; }

    public static final class ParseException extends RuntimeException {
        ParseException(String m) { super(m); }
    }

    // ---- lexing into text and actions ----------------------------------------------------------------

    private record Tok(boolean action, String text) { }

    private static List<Tok> lex(String src) {
        List<Tok> out = new ArrayList<>();
        int i = 0;
        StringBuilder text = new StringBuilder();
        while (i < src.length()) {
            int open = src.indexOf("{{", i);
            if (open < 0) { text.append(src, i, src.length()); break; }
            text.append(src, i, open);
            int p = open + 2;
            boolean trimLeft = src.startsWith("- ", p) || src.startsWith("-\n", p) || src.startsWith("-\t", p);
            if (trimLeft) p++;
            int close = findClose(src, p);
            int end = close;
            boolean trimRight = close - 2 >= p && src.charAt(close - 1) == '-' && Character.isWhitespace(src.charAt(close - 2));
            if (trimRight) end = close - 1;
            if (trimLeft) while (text.length() > 0 && Character.isWhitespace(text.charAt(text.length() - 1))) text.setLength(text.length() - 1);
            if (text.length() > 0) out.add(new Tok(false, text.toString()));
            text.setLength(0);
            out.add(new Tok(true, src.substring(p, end).strip()));
            i = close + 2;
            if (trimRight) while (i < src.length() && Character.isWhitespace(src.charAt(i))) i++;
        }
        if (text.length() > 0) out.add(new Tok(false, text.toString()));
        return out;
    }

    /** The "}}" closing an action, skipping string literals. */
    private static int findClose(String s, int from) {
        for (int i = from; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '"') {
                for (i++; i < s.length() && s.charAt(i) != '"'; i++) if (s.charAt(i) == '\\') i++;
            } else if (c == '}' && s.charAt(i + 1) == '}') {
                return i;
            }
        }
        throw new ParseException("unclosed action");
    }

    // ---- parsing --------------------------------------------------------------------------------------

    public static GoTemplate parse(String src) {
        List<Tok> toks = lex(src);
        int[] pos = {0};
        List<Node> body = parseList(toks, pos, new String[1]);
        if (pos[0] != toks.size()) throw new ParseException("unexpected {{ " + toks.get(pos[0]).text + " }}");
        return new GoTemplate(body);
    }

    /** Parses nodes until end/else; {@code stop[0]} receives the stopping action's text. */
    private static List<Node> parseList(List<Tok> toks, int[] pos, String[] stop) {
        List<Node> out = new ArrayList<>();
        while (pos[0] < toks.size()) {
            Tok t = toks.get(pos[0]);
            if (!t.action) { out.add(new Text(t.text)); pos[0]++; continue; }
            String a = t.text;
            if (a.equals("end") || a.equals("else") || a.startsWith("else ")) { stop[0] = a; return out; }
            pos[0]++;
            if (a.startsWith("if ")) out.add(parseIf(toks, pos, a.substring(3)));
            else if (a.startsWith("range ")) out.add(parseRange(toks, pos, a.substring(6)));
            else if (a.startsWith("/*")) continue;
            else out.add(parseAction(a));
        }
        stop[0] = null;
        return out;
    }

    private static If parseIf(List<Tok> toks, int[] pos, String cond) {
        List<Expr> conds = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> otherwise = null;
        conds.add(new ExprParser(cond).parsePipeline());
        String[] stop = new String[1];
        while (true) {
            List<Node> body = parseList(toks, pos, stop);
            if (stop[0] == null) throw new ParseException("if without end");
            pos[0]++;
            if (otherwise != null || stop[0].equals("end")) {
                if (otherwise != null) { otherwise.addAll(body); if (!stop[0].equals("end")) throw new ParseException("else after else"); }
                else bodies.add(body);
                return new If(conds, bodies, otherwise == null ? List.of() : otherwise);
            }
            bodies.add(body);
            if (stop[0].equals("else")) otherwise = new ArrayList<>();
            else if (stop[0].startsWith("else if ")) conds.add(new ExprParser(stop[0].substring(8)).parsePipeline());
            else throw new ParseException("unsupported {{ " + stop[0] + " }}");
        }
    }

    private static Range parseRange(List<Tok> toks, int[] pos, String head) {
        String idx = null, elem = null;
        String expr = head;
        int decl = head.indexOf(":=");
        if (decl >= 0) {
            String[] vars = head.substring(0, decl).split(",");
            if (vars.length == 2) { idx = vars[0].strip(); elem = vars[1].strip(); }
            else elem = vars[0].strip();
            expr = head.substring(decl + 2);
        }
        Expr over = new ExprParser(expr).parsePipeline();
        String[] stop = new String[1];
        List<Node> body = parseList(toks, pos, stop);
        if (!"end".equals(stop[0])) throw new ParseException("range without end (else is not supported)");
        pos[0]++;
        return new Range(idx, elem, over, body);
    }

    private static Action parseAction(String a) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\$\\w*)\\s*(:=|=)\\s*(.*)$", java.util.regex.Pattern.DOTALL).matcher(a);
        if (m.matches()) return new Action(m.group(1), m.group(2).equals(":="), new ExprParser(m.group(3)).parsePipeline());
        return new Action(null, false, new ExprParser(a).parsePipeline());
    }

    /** Parses one command: a function call with arguments, or a single operand. */
    private static final class ExprParser {
        private final String s;
        private int i;

        ExprParser(String s) { this.s = s.strip(); }

        Expr parsePipeline() {
            Expr e = command();
            skip();
            if (i != s.length()) throw new ParseException("unsupported syntax at '" + s.substring(i) + "' in {{ " + s + " }}");
            return e;
        }

        private void skip() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        private Expr command() {
            skip();
            int start = i;
            while (i < s.length() && Character.isLetter(s.charAt(i))) i++;
            String word = s.substring(start, i);
            if (!word.isEmpty() && !word.equals("true") && !word.equals("false")) {
                if (!List.of("eq", "ne", "not", "and", "or", "len", "index", "slice").contains(word)) throw new ParseException("unknown function " + word);
                List<Expr> args = new ArrayList<>();
                while (true) {
                    skip();
                    if (i >= s.length() || s.charAt(i) == ')') break;
                    args.add(operand());
                }
                return new Call(word, args);
            }
            i = start;
            return operand();
        }

        private Expr operand() {
            skip();
            char c = s.charAt(i);
            if (c == '(') {
                i++;
                Expr inner = command();
                skip();
                if (i >= s.length() || s.charAt(i) != ')') throw new ParseException("missing ) in {{ " + s + " }}");
                i++;
                List<String> chain = fields();
                return chain.isEmpty() ? inner : new Field(null, inner, chain);
            }
            if (c == '"') return new Lit(string());
            if (c == '-' || Character.isDigit(c)) {
                int st = i++;
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
                return new Lit(Long.parseLong(s.substring(st, i)));
            }
            if (s.startsWith("true", i)) { i += 4; return new Lit(true); }
            if (s.startsWith("false", i)) { i += 5; return new Lit(false); }
            if (c == '$') {
                int st = i++;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
                String var = s.substring(st, i);
                return new Field(var, null, fields());
            }
            if (c == '.') return new Field(".", null, fields());
            throw new ParseException("unsupported operand at '" + s.substring(i) + "'");
        }

        private List<String> fields() {
            List<String> out = new ArrayList<>();
            while (i < s.length() && s.charAt(i) == '.') {
                int st = ++i;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
                if (i > st) out.add(s.substring(st, i));
            }
            return out;
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                if (i >= s.length()) throw new ParseException("unterminated string in {{ " + s + " }}");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case '\\' -> b.append('\\');
                    case '"' -> b.append('"');
                    case 'x' -> { b.append((char) Integer.parseInt(s.substring(i, i + 2), 16)); i += 2; }
                    case 'u' -> { b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; }
                    case 'U' -> { b.appendCodePoint(Integer.parseInt(s.substring(i, i + 8), 16)); i += 8; }
                    default -> throw new ParseException("unsupported escape \\" + e);
                }
            }
        }
    }

    // ---- execution ------------------------------------------------------------------------------------

    /** Renders with {@code data} as the root ({@code System}, {@code Messages}: a list of maps with Role and Content, ...). */
    public String execute(Map<String, Object> data) {
        StringBuilder out = new StringBuilder();
        List<Map<String, Object>> scopes = new ArrayList<>();
        scopes.add(new HashMap<>(Map.of("$", data)));
        run(root, data, data, scopes, out);
        return out.toString();
    }

    private void run(List<Node> nodes, Object dot, Object root, List<Map<String, Object>> scopes, StringBuilder out) {
        for (Node n : nodes) {
            switch (n) {
                case Text t -> out.append(t.text);
                case Action a -> {
                    Object v = eval(a.expr, dot, scopes);
                    if (a.var == null) out.append(print(v));
                    else if (a.declare) scopes.getLast().put(a.var, v);
                    else assign(scopes, a.var, v);
                }
                case If f -> {
                    List<Node> body = f.otherwise;
                    for (int k = 0; k < f.conds.size(); k++) {
                        if (truth(eval(f.conds.get(k), dot, scopes))) { body = f.bodies.get(k); break; }
                    }
                    scopes.add(new HashMap<>());
                    run(body, dot, root, scopes, out);
                    scopes.removeLast();
                }
                case Range r -> {
                    Object over = eval(r.over, dot, scopes);
                    if (over == null) break;
                    if (!(over instanceof List<?> list)) throw new IllegalStateException("range over " + over.getClass().getSimpleName());
                    for (int k = 0; k < list.size(); k++) {
                        Map<String, Object> s = new HashMap<>();
                        if (r.indexVar != null) s.put(r.indexVar, (long) k);
                        if (r.elemVar != null) s.put(r.elemVar, list.get(k));
                        scopes.add(s);
                        run(r.body, list.get(k), root, scopes, out);
                        scopes.removeLast();
                    }
                }
            }
        }
    }

    private static void assign(List<Map<String, Object>> scopes, String var, Object v) {
        for (int k = scopes.size() - 1; k >= 0; k--) {
            if (scopes.get(k).containsKey(var)) { scopes.get(k).put(var, v); return; }
        }
        throw new IllegalStateException("undefined variable " + var);
    }

    private static Object lookup(List<Map<String, Object>> scopes, String var) {
        for (int k = scopes.size() - 1; k >= 0; k--) if (scopes.get(k).containsKey(var)) return scopes.get(k).get(var);
        throw new IllegalStateException("undefined variable " + var);
    }

    private Object eval(Expr e, Object dot, List<Map<String, Object>> scopes) {
        return switch (e) {
            case Lit l -> l.value;
            case Field f -> {
                Object v = f.inner != null ? eval(f.inner, dot, scopes) : f.base.equals(".") ? dot : lookup(scopes, f.base);
                for (String name : f.chain) {
                    if (!(v instanceof Map<?, ?> m)) throw new IllegalStateException("can't evaluate field " + name);
                    v = m.get(name);
                }
                yield v;
            }
            case Call c -> call(c, dot, scopes);
        };
    }

    private Object call(Call c, Object dot, List<Map<String, Object>> scopes) {
        List<Expr> a = c.args;
        switch (c.fn) {
            case "and" -> {
                Object v = null;
                for (Expr x : a) { v = eval(x, dot, scopes); if (!truth(v)) return v; }
                return v;
            }
            case "or" -> {
                Object v = null;
                for (Expr x : a) { v = eval(x, dot, scopes); if (truth(v)) return v; }
                return v;
            }
            default -> { }
        }
        List<Object> v = new ArrayList<>();
        for (Expr x : a) v.add(eval(x, dot, scopes));
        return switch (c.fn) {
            case "not" -> !truth(v.get(0));
            case "eq" -> {
                for (int k = 1; k < v.size(); k++) if (java.util.Objects.equals(v.get(0), v.get(k))) yield true;
                yield false;
            }
            case "ne" -> !java.util.Objects.equals(v.get(0), v.get(1));
            case "len" -> (long) (v.get(0) instanceof List<?> l ? l.size() : v.get(0) instanceof String s ? s.length() : 0);
            case "index" -> {
                List<?> l = (List<?>) v.get(0);
                int k = (int) (long) (Long) v.get(1);
                if (k < 0 || k >= l.size()) throw new IllegalStateException("index out of range: " + k);
                yield l.get(k);
            }
            case "slice" -> {
                List<?> l = (List<?>) v.get(0);
                int from = v.size() > 1 ? (int) (long) (Long) v.get(1) : 0, to = v.size() > 2 ? (int) (long) (Long) v.get(2) : l.size();
                yield l.subList(from, to);
            }
            default -> throw new IllegalStateException(c.fn);
        };
    }

    static boolean truth(Object v) {
        if (v == null) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    private static String print(Object v) {
        if (v == null) return "<no value>";
        return v.toString();
    }
}
