package jllm.train.export;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.formats.io.OutputFile;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Tokenizer;
import jllm.train.data.ChatShape;
import jllm.train.data.ExampleEncoder;
import jllm.train.data.Message;
import jllm.train.data.PromptFormat;

/**
 * The Ollama {@code Modelfile} written beside an exported GGUF: {@code FROM}, a {@code TEMPLATE}
 * translated from the chat template, {@code SYSTEM} when the template has a default system prompt, and
 * {@code PARAMETER stop} for each end-of-turn token.
 *
 * <p>Translation goes through {@link ChatShape} (discovered by rendering the Jinja template on probe
 * conversations) and is then checked by rendering: the emitted Go template, run by {@link GoTemplate}
 * on the data Ollama would pass (system messages, the SYSTEM line inserted as Ollama inserts it,
 * consecutive turns of one role merged), must give the Jinja template's text on every probe
 * conversation, less a leading BOS the runtime adds itself. When the template's behaviour is not
 * captured, the Modelfile is written without TEMPLATE and the reason is returned as a warning (Ollama
 * then uses the GGUF's own chat template if it recognises it).
 */
public final class Modelfile {
    /** What was written and what the user should know. */
    public record Result(String text, boolean hasTemplate, List<String> warnings) { }

    private Modelfile() { }

    /**
     * @param from         the FROM argument (the GGUF path, relative to the Modelfile's directory or absolute)
     * @param chatTemplate the model's Jinja chat template, or null (then {@code format}, if given, decides)
     * @param format       the prompt format a fine-tune recorded, or null
     * @param now          the time a date-printing template sees (the export time)
     */
    public static Result build(String from, String chatTemplate, Tokenizer tok, PromptFormat format, LocalDateTime now) {
        List<String> warnings = new ArrayList<>();
        StringBuilder m = new StringBuilder();
        m.append("# Ollama Modelfile written by jllm; `ollama create NAME -f Modelfile`\n");
        m.append("FROM ").append(fromArg(from)).append('\n');
        boolean dropBos = ExampleEncoder.addsBos(tok);
        String template = null, system = null;
        ChatShape shape = null;
        if (chatTemplate == null && format != null && format.style() == PromptFormat.Style.CHAT_TEMPLATE) chatTemplate = format.chatTemplate();
        if (chatTemplate != null) {
            try {
                Map<String, Object> ctx = context(tok, now);
                ChatTemplate t = ChatTemplate.compile(chatTemplate);
                shape = ChatShape.discover(t, ctx, tok.specialTokens().get("bos_token"));
                shape.verify(t, ctx);
                template = OllamaTemplate.translate(shape, dropBos);
                system = shape.defaultSystem == null || shape.defaultSystem.isEmpty() || !OllamaTemplate.printable(shape.defaultSystem)
                        || shape.defaultSystem.contains("\"\"\"") ? null : shape.defaultSystem;
                verifyGo(template, system, t, ctx, shape.bos, dropBos);
                if (datesDiffer(t, tok)) warnings.add("warning: the chat template writes the current date; the Modelfile's TEMPLATE has the export date ("
                        + now.toLocalDate() + ") written into it");
            } catch (ChatShape.Unsupported | TemplateException e) {
                template = null;
                system = null;
                shape = null;
                warnings.add("warning: Modelfile written without TEMPLATE: the chat template cannot be expressed as an Ollama template ("
                        + e.getMessage() + "); Ollama will use the GGUF's chat template if it recognises it");
            }
        } else if (format != null) {
            // The plain format: [bos] system + blank line + prompt, the response follows.
            template = "{{- if .System }}{{ .System }}{{ \"\\n\\n\" }}{{ end }}{{ .Prompt }}";
            system = format.system() != null && OllamaTemplate.printable(format.system()) && !format.system().contains("\"\"\"") ? format.system() : null;
        }
        if (template != null) m.append("TEMPLATE \"\"\"").append(template).append("\"\"\"\n");
        else m.append("# TEMPLATE not written: see the warning jllm printed\n");
        if (system != null) m.append("SYSTEM \"\"\"").append(system).append("\"\"\"\n");
        for (String stop : stops(tok, shape)) {
            if (!OllamaTemplate.printable(stop) || stop.contains("\n")) {
                warnings.add("warning: stop token " + stop.codePoints().mapToObj(c -> String.format("U+%04X", c)).toList() + " cannot be written in a Modelfile; left out");
                continue;
            }
            m.append("PARAMETER stop \"").append(stop).append("\"\n");
        }
        return new Result(m.toString(), template != null, warnings);
    }

    public static Path write(Path modelfile, boolean overwrite, List<Path> inputs, Result r) {
        byte[] b = r.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return OutputFile.write(modelfile, overwrite, inputs, (OutputFile.StreamBody) out -> out.write(b));
    }

    private static String fromArg(String from) {
        if (from.contains("\n")) throw new IllegalArgumentException("a FROM path cannot hold a newline");
        // The parser ends an unquoted value at a space; a relative path is resolved against the Modelfile's directory.
        String p = !from.startsWith("/") && !from.startsWith(".") && !from.startsWith("~") ? "./" + from : from;
        return p.contains(" ") ? "\"" + p + "\"" : p;
    }

    static Map<String, Object> context(Tokenizer tok, LocalDateTime now) {
        Map<String, Object> ctx = new LinkedHashMap<>(tok.specialTokens());
        ctx.put(ChatTemplate.NOW_KEY, now.withNano(0).toString());
        return ctx;
    }

    private static boolean datesDiffer(ChatTemplate t, Tokenizer tok) {
        List<Map<String, Object>> conv = Message.maps(List.of(new Message(Message.USER, "Hi")));
        Map<String, Object> a = context(tok, LocalDateTime.of(2026, 1, 15, 12, 0)), b = context(tok, LocalDateTime.of(2024, 7, 26, 9, 30));
        a.put("messages", conv);
        b.put("messages", conv);
        a.put("add_generation_prompt", true);
        b.put("add_generation_prompt", true);
        try {
            return !t.render(a).equals(t.render(b));
        } catch (TemplateException e) {
            return false;
        }
    }

    /**
     * Runs the Go template as Ollama would on each probe conversation and compares with Jinja: the
     * SYSTEM line becomes a leading system message when the conversation has none.
     */
    static void verifyGo(String goTemplate, String system, ChatTemplate jinja, Map<String, Object> ctx, String bos, boolean dropBos)
            throws ChatShape.Unsupported {
        GoTemplate go;
        try {
            go = GoTemplate.parse(goTemplate);
        } catch (GoTemplate.ParseException e) {
            throw new ChatShape.Unsupported("internal: the emitted Go template does not parse: " + e.getMessage());
        }
        for (List<Message> conv : ChatShape.probeConversations()) {
            boolean gen = conv.getLast().role().equals(Message.USER);
            String want;
            Map<String, Object> c = new LinkedHashMap<>(ctx);
            c.put("messages", Message.maps(conv));
            c.put("add_generation_prompt", gen);
            try {
                want = jinja.render(c);
            } catch (TemplateException e) {
                continue;
            }
            if (dropBos && !bos.isEmpty()) want = want.substring(bos.length());
            List<Message> sent = new ArrayList<>(conv);
            if (system != null && !sent.getFirst().role().equals(Message.SYSTEM)) sent.addFirst(new Message(Message.SYSTEM, system));
            String got = go.execute(OllamaTemplate.ollamaData(sent));
            if (!got.equals(want))
                throw new ChatShape.Unsupported("the Go template renders a " + conv.size() + "-message conversation differently (character "
                        + ChatShape.firstDifference(got, want) + ")");
        }
    }

    /**
     * End-of-turn strings: the special tokens the template writes after an assistant turn, then the
     * tokenizer's end-of-sequence tokens; for templates whose turns end without a special token, the
     * next user turn's opening text too (so a reply never runs into a made-up next turn).
     */
    static List<String> stops(Tokenizer tok, ChatShape shape) {
        Set<String> out = new LinkedHashSet<>();
        List<AddedToken> specials = new ArrayList<>();
        for (AddedToken t : tok.addedTokens()) if (t.special() && !t.content().isEmpty()) specials.add(t);
        boolean special = false;
        if (shape != null) {
            String s = shape.assistantSuffix;
            for (int i = 0; i < s.length(); ) {
                AddedToken hit = null;
                for (AddedToken t : specials) if (s.startsWith(t.content(), i) && (hit == null || t.content().length() > hit.content().length())) hit = t;
                if (hit == null) { i++; continue; }
                out.add(hit.content());
                special = true;
                i += hit.content().length();
            }
        }
        for (int id : tok.eosIds()) {
            String t = tok.tokenText(id);
            if (t != null && !t.isEmpty()) out.add(t);
        }
        if (shape != null && !special && !shape.userPrefix.isBlank()) out.add(shape.userPrefix.strip());
        return new ArrayList<>(out);
    }
}
