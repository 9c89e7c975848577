package jllm.train.export;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.train.data.ChatShape;
import jllm.train.data.Message;

/**
 * Writes a {@link ChatShape} as an Ollama TEMPLATE (Go {@code text/template} over {@code .Messages},
 * each with {@code .Role} and {@code .Content}).
 *
 * <p>Every piece of template text is a Go string literal inside an action, so whitespace trimming
 * ({@code {{-}}) can lay the template out on lines without touching the text, and no character of the
 * chat format needs escaping rules beyond Go's. The generation prompt is written when the last message
 * is a user turn (Ollama always asks for the assistant's reply then). Tool turns are not rendered.
 */
public final class OllamaTemplate {
    private OllamaTemplate() { }

    /**
     * @param dropBos leave the BOS text out: the runtime's tokenizer adds BOS itself (llama.cpp does for
     *                vocabularies with add_bos_token), and the template writing it too would double it
     */
    public static String translate(ChatShape s, boolean dropBos) {
        Emitter e = new Emitter();
        e.action("$last := \"none\"");
        if (!dropBos && !s.bos.isEmpty()) e.literal(s.bos);
        if (!s.noSystem.isEmpty()) {
            e.action("if or (not .Messages) (ne (index .Messages 0).Role \"system\")");
            e.literal(s.noSystem);
            e.action("end");
        }
        e.action(s.systemFolded || s.lastAssistantPrefix != null ? "range $i, $m := .Messages" : "range .Messages");
        e.action("if eq .Role \"system\"");
        if (!s.systemFolded) turn(e, s.systemPrefix, s.systemSuffix);
        e.action("else if eq .Role \"user\"");
        e.literal(s.userPrefix);
        if (s.systemFolded) {
            e.action("if and (eq $i 1) (eq (index $.Messages 0).Role \"system\")");
            e.action("(index $.Messages 0).Content");
            e.literal(s.foldSeparator);
            e.action("end");
        }
        e.action(".Content");
        e.literal(s.userSuffix);
        e.action("else if eq .Role \"assistant\"");
        if (s.lastAssistantPrefix != null) {
            // Ollama's idiom for "this is the last message": what is left from $i on is one message.
            e.action("if eq (len (slice $.Messages $i)) 1");
            e.literal(s.lastAssistantPrefix);
            e.action("else");
            e.literal(s.assistantPrefix);
            e.action("end");
            e.action(".Content");
            e.literal(s.assistantSuffix);
        } else {
            turn(e, s.assistantPrefix, s.assistantSuffix);
        }
        e.action("end");
        e.action("$last = .Role");
        e.action("end");
        if (!s.generation.isEmpty()) {
            e.action("if eq $last \"user\"");
            e.literal(s.generation);
            e.action("end");
        }
        return e.out.toString();
    }

    private static void turn(Emitter e, String prefix, String suffix) {
        e.literal(prefix);
        e.action(".Content");
        e.literal(suffix);
    }

    /** Lays actions out one per line ({@code {{-} trims the line break), text as quoted literals. */
    private static final class Emitter {
        final StringBuilder out = new StringBuilder();

        void action(String a) {
            if (out.length() > 0) out.append('\n');
            out.append("{{- ").append(a).append(" }}");
        }

        void literal(String text) {
            if (text.isEmpty()) return;
            action(quote(text));
        }
    }

    /**
     * A Go double-quoted string literal. Quotes are written as \x22 so a TEMPLATE never contains the
     * Modelfile's {@code """} delimiter; control characters are escaped.
     */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\x22");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) b.append(c).append(s.charAt(++i));
                    else if (Character.isSurrogate(c)) b.append('\uFFFD'); // Go has no lone surrogates
                    else if (!printable(c)) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    /**
     * Go's strconv.IsPrint for a BMP char: letters, marks, numbers, punctuation, symbols and the ASCII
     * space. Ollama's Modelfile parser silently drops every other character of a value, so those must
     * only appear escaped.
     */
    static boolean printable(char c) {
        if (c == ' ') return true;
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Whether a Modelfile value keeps all of {@code s} (no character the parser would drop). */
    static boolean printable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\t') continue;
            if (Character.isSurrogate(c)) continue;
            if (!printable(c)) return false;
        }
        return true;
    }

    /** The data Ollama passes a Messages template: {@code System} (system messages joined) and {@code Messages}. */
    public static Map<String, Object> ollamaData(List<Message> messages) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        List<String> system = new ArrayList<>();
        for (Message m : messages) {
            if (m.role().equals(Message.SYSTEM)) system.add(m.content());
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("Role", m.role());
            x.put("Content", m.content());
            // Ollama merges consecutive messages of one role with a blank line (template.collate).
            if (!msgs.isEmpty() && msgs.getLast().get("Role").equals(m.role())) {
                msgs.getLast().put("Content", msgs.getLast().get("Content") + "\n\n" + m.content());
            } else {
                msgs.add(x);
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("System", String.join("\n\n", system));
        d.put("Messages", msgs);
        return d;
    }
}
