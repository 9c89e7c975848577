package jllm.train.export;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;
import jllm.train.data.ChatShape;
import jllm.train.data.Message;

/**
 * Drops the BOS a chat template writes, for runtimes whose tokenizer adds BOS itself (llama.cpp with
 * {@code add_bos_token}): left in, every prompt would start with two BOS tokens, which degrades output.
 *
 * <p>Two edits are tried, each kept only if rendering proves it removes exactly the leading BOS and
 * nothing else on probe conversations: removing the {@code {{ bos_token }}} output statement (keeps the
 * template recognisable), then shadowing the variable with {@code {% set bos_token = '' %}} (covers
 * {@code bos_token + ...} expressions). A template that also writes BOS elsewhere (Llama 2 writes one per
 * turn) is left as it is, with a warning.
 */
public final class TemplateBos {
    private static final Pattern OUTPUT = Pattern.compile("\\{\\{-?\\s*bos_token\\s*-?\\}\\}");

    /** The template to store, and whether it changed or why not. */
    public record Result(String template, boolean changed, String warning) { }

    private TemplateBos() { }

    public static Result withoutLeadingBos(String source, Map<String, ?> context, String bosToken) {
        if (bosToken == null || bosToken.isEmpty()) return new Result(source, false, null);
        ChatTemplate original;
        try {
            original = ChatTemplate.compile(source);
        } catch (TemplateException e) {
            return new Result(source, false, "warning: the chat template does not compile (" + e.getMessage() + "); stored unchanged");
        }
        if (!writesLeadingBos(original, context, bosToken)) return new Result(source, false, null);
        List<String> candidates = List.of(OUTPUT.matcher(source).replaceAll(""), "{% set bos_token = '' %}" + source);
        for (String c : candidates) {
            if (c.equals(source)) continue;
            try {
                if (same(original, ChatTemplate.compile(c), context, bosToken)) return new Result(c, true, null);
            } catch (TemplateException e) {
                // try the next edit
            }
        }
        return new Result(source, false, "warning: the chat template writes " + bosToken + " in more places than the start; stored unchanged, "
                + "so prompts rendered from it start with a second BOS where the tokenizer adds one");
    }

    private static boolean writesLeadingBos(ChatTemplate t, Map<String, ?> context, String bos) {
        for (List<Message> conv : ChatShape.probeConversations()) {
            String r = render(t, context, conv);
            if (r != null && r.startsWith(bos)) return true;
        }
        return false;
    }

    private static boolean same(ChatTemplate original, ChatTemplate edited, Map<String, ?> context, String bos) {
        int compared = 0;
        for (List<Message> conv : ChatShape.probeConversations()) {
            String want = render(original, context, conv), got = render(edited, context, conv);
            if (want == null) continue;
            if (got == null || !want.startsWith(bos) || !want.substring(bos.length()).equals(got)) return false;
            compared++;
        }
        return compared > 0;
    }

    private static String render(ChatTemplate t, Map<String, ?> context, List<Message> conv) {
        Map<String, Object> c = new LinkedHashMap<>(context);
        c.put("messages", Message.maps(conv));
        c.put("add_generation_prompt", conv.getLast().role().equals(Message.USER));
        try {
            return t.render(c);
        } catch (TemplateException e) {
            return null;
        }
    }
}
