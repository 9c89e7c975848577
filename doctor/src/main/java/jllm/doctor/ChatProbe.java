package jllm.doctor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.template.ChatTemplate;
import jllm.tokenizer.Tokenizer;

/**
 * Renders a model's chat template on a few small conversations, the way transformers'
 * {@code apply_chat_template} does (the tokenizer's special token strings in the context), so the
 * doctor can see what the template writes: BOS, turn markers, the end-of-turn token.
 */
public final class ChatProbe {
    /** Assistant text whose position in a rendering shows where the turn's end marker follows. */
    public static final String MARKER = "Zebra42 quartz";

    private final ChatTemplate template;
    private final Tokenizer tokenizer;

    public ChatProbe(String source, Tokenizer tokenizer) {
        this.template = ChatTemplate.compile(source);
        this.tokenizer = tokenizer;
    }

    public static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    public static List<Map<String, Object>> userOnly() { return List.of(msg("user", "Hello!")); }

    public static List<Map<String, Object>> withSystem() {
        return List.of(msg("system", "You are a helpful assistant."), msg("user", "Hi"), msg("assistant", "Hello! How can I help?"),
                msg("user", "Tell me a joke."));
    }

    /** A user turn and an assistant turn ending in {@link #MARKER}. */
    public static List<Map<String, Object>> answered() { return List.of(msg("user", "Hi"), msg("assistant", MARKER)); }

    /** Renders; throws {@link jllm.template.TemplateException} when the template fails or raises. */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> ctx = new LinkedHashMap<>();
        if (tokenizer != null) ctx.putAll(tokenizer.specialTokens());
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put(ChatTemplate.NOW_KEY, "2026-01-15T12:00:00");
        return template.render(ctx);
    }

    /** Token ids the template writes on the probe conversations that render (tokenized as apply_chat_template does). */
    public Set<Integer> idsUsed() {
        Set<Integer> ids = new LinkedHashSet<>();
        if (tokenizer == null) return ids;
        List<String> texts = new ArrayList<>();
        for (var conv : List.of(userOnly(), withSystem(), answered())) {
            for (boolean agp : new boolean[] {true, false}) {
                try {
                    texts.add(render(conv, agp));
                } catch (RuntimeException e) {
                    // a conversation this template rejects (e.g. no system role) uses no tokens
                }
            }
        }
        for (String t : texts) for (int id : tokenizer.encode(t, false)) ids.add(id);
        return ids;
    }
}
