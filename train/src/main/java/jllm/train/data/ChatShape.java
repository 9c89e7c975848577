package jllm.train.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;

/**
 * The structure most chat templates have, discovered by rendering the Jinja template on probe
 * conversations whose contents are sentinel strings:
 * <pre>
 *   bos + (no system message ? noSystem : "")
 *     + per message: prefix[role] + content + suffix[role]
 *     + (add_generation_prompt ? generation : "")
 * </pre>
 * with one variant: templates that fold the system message into the first user turn (Gemma) write
 * {@code system + foldSeparator} at the start of that user's content instead of a system block.
 *
 * <p>General Jinja cannot be translated; this structure can (to an Ollama Go template, or to exact
 * character spans of each response for loss masking). {@link #verify} renders both ways on several
 * conversations; a template whose behaviour the structure does not capture (a system prompt moved
 * into the last user turn, history rendered differently from the last turn, ...) fails there and
 * callers refuse to use the shape.
 */
public final class ChatShape {
    private static final String U1 = "jllmU1q", A1 = "jllmA1q", U2 = "jllmU2q", A2 = "jllmA2q", S1 = "jllmS1q";

    public final String bos;
    public final String noSystem;
    public final String systemPrefix, systemSuffix;
    public final boolean systemFolded;
    public final String foldSeparator;
    public final String userPrefix, userSuffix;
    public final String assistantPrefix, assistantSuffix;
    /**
     * How the assistant turn starts when it is the conversation's last message, when that differs from
     * history turns (Qwen 3 writes an empty think block there); null when it does not differ.
     */
    public final String lastAssistantPrefix;
    public final String generation;
    /** The system prompt the template writes when the conversation has none, or null when there is none of that form. */
    public final String defaultSystem;

    private ChatShape(String bos, String noSystem, String systemPrefix, String systemSuffix, boolean systemFolded, String foldSeparator,
                      String userPrefix, String userSuffix, String assistantPrefix, String assistantSuffix, String lastAssistantPrefix,
                      String generation, String defaultSystem) {
        this.bos = bos;
        this.noSystem = noSystem;
        this.systemPrefix = systemPrefix;
        this.systemSuffix = systemSuffix;
        this.systemFolded = systemFolded;
        this.foldSeparator = foldSeparator;
        this.userPrefix = userPrefix;
        this.userSuffix = userSuffix;
        this.assistantPrefix = assistantPrefix;
        this.assistantSuffix = assistantSuffix;
        this.lastAssistantPrefix = lastAssistantPrefix;
        this.generation = generation;
        this.defaultSystem = defaultSystem;
    }

    /** Why a template's structure could not be captured. */
    public static final class Unsupported extends Exception {
        public Unsupported(String why) { super(why); }
    }

    /**
     * Discovers the shape. {@code context} holds the other template variables (bos_token, eos_token,
     * now, ...); {@code bosToken} is the string a leading BOS would be (null if none).
     */
    public static ChatShape discover(ChatTemplate t, Map<String, ?> context, String bosToken) throws Unsupported {
        String[] r1g = split(render(t, context, List.of(msg("user", U1)), true), U1);
        String[] r1n = split(render(t, context, List.of(msg("user", U1)), false), U1);
        String[] r3 = split(render(t, context, List.of(msg("user", U1), msg("assistant", A1)), false), U1, A1);
        String[] r2 = split(render(t, context, List.of(msg("user", U1), msg("assistant", A1), msg("user", U2)), true), U1, A1, U2);
        String g0 = r1g[0], x1 = r1g[1];
        need(g0.equals(r1n[0]) && g0.equals(r3[0]) && g0.equals(r2[0]), "the text before the first message depends on what follows it");
        String y1 = r1n[1], g1 = r3[1], z1 = r3[2];
        need(r2[3].equals(x1), "the user turn ends differently after history");
        need(x1.startsWith(y1), "the generation prompt is not added after the user turn");
        String generation = x1.substring(y1.length());
        need(g1.startsWith(y1) && r2[1].startsWith(y1), "the user turn ends differently before an assistant turn");
        String assistantPrefix = r2[1].substring(y1.length());
        String lastAssistantPrefix = g1.equals(r2[1]) ? null : g1.substring(y1.length());
        String g2 = r2[2];
        need(g2.startsWith(z1), "the assistant turn ends differently before a user turn");
        String userPrefix = g2.substring(z1.length());
        need(g0.endsWith(userPrefix), "the first user turn starts differently from later ones");
        String head = g0.substring(0, g0.length() - userPrefix.length());
        String bos = bosToken != null && !bosToken.isEmpty() && head.startsWith(bosToken) ? bosToken : "";
        String noSystem = head.substring(bos.length());

        String[] r4 = split(render(t, context, List.of(msg("system", S1), msg("user", U1)), true), S1, U1);
        need(r4[2].equals(x1), "a system message changes how the user turn ends");
        boolean folded = r4[0].equals(g0);
        String sysPre = "", sysSuf = "", sep = "", deflt = null;
        if (folded) {
            sep = r4[1];
            need(noSystem.isEmpty(), "a template that folds the system message into the first user turn also writes a default system text");
        } else {
            need(r4[0].startsWith(bos), "a system message changes the start of the text");
            sysPre = r4[0].substring(bos.length());
            need(r4[1].endsWith(userPrefix), "the user turn after a system message starts differently");
            sysSuf = r4[1].substring(0, r4[1].length() - userPrefix.length());
            if (noSystem.length() >= sysPre.length() + sysSuf.length() && noSystem.startsWith(sysPre) && noSystem.endsWith(sysSuf))
                deflt = noSystem.substring(sysPre.length(), noSystem.length() - sysSuf.length());
        }
        return new ChatShape(bos, noSystem, sysPre, sysSuf, folded, sep, userPrefix, y1, assistantPrefix, z1, lastAssistantPrefix, generation, deflt);
    }

    private static void need(boolean ok, String why) throws Unsupported {
        if (!ok) throw new Unsupported(why);
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    static String render(ChatTemplate t, Map<String, ?> context, List<Map<String, Object>> messages, boolean gen) throws Unsupported {
        Map<String, Object> ctx = new LinkedHashMap<>(context);
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", gen);
        try {
            return t.render(ctx);
        } catch (TemplateException e) {
            throw new Unsupported("the template raised on a plain conversation: " + e.getMessage());
        }
    }

    /** Splits text at each sentinel in order; each must occur exactly once. */
    private static String[] split(String text, String... sentinels) throws Unsupported {
        String[] out = new String[sentinels.length + 1];
        int from = 0;
        for (int i = 0; i < sentinels.length; i++) {
            int at = text.indexOf(sentinels[i], from);
            need(at >= 0 && text.indexOf(sentinels[i], at + 1) < 0, "a message's content is not written exactly once, as it is");
            out[i] = text.substring(from, at);
            from = at + sentinels[i].length();
        }
        out[sentinels.length] = text.substring(from);
        return out;
    }

    /**
     * A rendering and where each message landed: {@code contentStart[i]} to {@code turnEnd[i]} is message
     * i's content and suffix; {@code responseStart[i]} is where a model's reply begins when it is prompted
     * with the generation prompt (the content, or earlier when the last turn's opener extends the
     * generation prompt, e.g. Qwen 3's empty think block, which the model writes itself).
     */
    public record Rendered(String text, int[] contentStart, int[] responseStart, int[] turnEnd) { }

    /** Renders from the discovered pieces (see {@link Rendered}). */
    public Rendered render(List<Message> msgs, boolean addGenerationPrompt) {
        StringBuilder b = new StringBuilder(bos);
        int n = msgs.size();
        int[] start = new int[n], response = new int[n], end = new int[n];
        boolean firstIsSystem = n > 0 && msgs.get(0).role().equals(Message.SYSTEM);
        if (!firstIsSystem) b.append(noSystem);
        for (int i = 0; i < n; i++) {
            Message m = msgs.get(i);
            switch (m.role()) {
                case Message.SYSTEM -> {
                    if (systemFolded) { start[i] = end[i] = b.length(); continue; }
                    b.append(systemPrefix);
                    start[i] = b.length();
                    b.append(m.content()).append(systemSuffix);
                }
                case Message.USER -> {
                    b.append(userPrefix);
                    if (systemFolded && i == 1 && firstIsSystem) b.append(msgs.get(0).content()).append(foldSeparator);
                    start[i] = b.length();
                    b.append(m.content()).append(userSuffix);
                }
                case Message.ASSISTANT -> {
                    String prefix = i == n - 1 && lastAssistantPrefix != null ? lastAssistantPrefix : assistantPrefix;
                    response[i] = b.length() + (prefix.startsWith(generation) ? generation.length() : prefix.length());
                    b.append(prefix);
                    start[i] = b.length();
                    b.append(m.content()).append(assistantSuffix);
                }
                default -> throw new IllegalArgumentException("role " + m.role());
            }
            end[i] = b.length();
            if (!m.role().equals(Message.ASSISTANT)) response[i] = start[i];
        }
        if (addGenerationPrompt) b.append(generation);
        return new Rendered(b.toString(), start, response, end);
    }

    /** Conversations (alternating, with and without a system message) on which {@link #verify} compares renderings. */
    public static List<List<Message>> probeConversations() {
        List<List<Message>> c = new ArrayList<>();
        Message s = new Message(Message.SYSTEM, "You are terse."), u = new Message(Message.USER, "Hello!"),
                a = new Message(Message.ASSISTANT, "Hi. How can I help?"), u2 = new Message(Message.USER, "What is 2+2? ☀️ \"quoted\"\nThanks."),
                a2 = new Message(Message.ASSISTANT, "4"), u3 = new Message(Message.USER, "And 3+3?");
        c.add(List.of(u));
        c.add(List.of(s, u));
        c.add(List.of(u, a));
        c.add(List.of(s, u, a));
        c.add(List.of(u, a, u2));
        c.add(List.of(s, u, a, u2, a2, u3));
        c.add(List.of(u, a, u2, a2));
        return c;
    }

    /**
     * Renders each conversation with the Jinja template and from the pieces (generation prompt when it
     * ends with a user turn); the first difference is thrown. A conversation the template itself
     * refuses is skipped; if it refuses all, the template is unsupported.
     */
    public void verify(ChatTemplate t, Map<String, ?> context) throws Unsupported {
        int compared = 0;
        for (List<Message> conv : probeConversations()) {
            boolean gen = conv.get(conv.size() - 1).role().equals(Message.USER);
            String want;
            try {
                want = render(t, context, Message.maps(conv), gen);
            } catch (Unsupported e) {
                continue;
            }
            String got = render(conv, gen).text();
            if (!got.equals(want))
                throw new Unsupported("rendering a " + conv.size() + "-message conversation" + (conv.get(0).role().equals(Message.SYSTEM) ? " with a system message" : "")
                        + " differs from the template at character " + firstDifference(got, want));
            compared++;
        }
        need(compared > 0, "the template refused every probe conversation");
    }

    /** The index of the first differing character (the shorter length when one is a prefix of the other). */
    public static int firstDifference(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) if (a.charAt(i) != b.charAt(i)) return i;
        return n;
    }
}
