package jllm.generate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.io.InputFile;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.Backend;
import jllm.template.ChatTemplate;
import jllm.tokenizer.Tokenizer;

/**
 * A model with what it takes to talk to it in text: its tokenizer, its chat template and the
 * tokens that end a reply. Found beside the weights (tokenizer.json / GGUF metadata) or given.
 */
public final class ModelBundle {
    /** End-of-turn markers of common chat formats; added to the stop set when the vocabulary has them. */
    private static final List<String> END_OF_TURN = List.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>",
            "<|endoftext|>", "</s>", "<|end_of_text|>");

    public final Model model;
    public final Tokenizer tokenizer;
    private final String templateSource;
    private ChatTemplate template;
    private final Set<Integer> stopIds;

    private ModelBundle(Model model, Tokenizer tokenizer, String templateSource, Set<Integer> stopIds) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.templateSource = templateSource;
        this.stopIds = stopIds;
    }

    public static ModelBundle open(Path modelPath, Path tokenizerPath, Path templatePath, Backend be, Consumer<String> warn) {
        Model m = ModelLoader.load(modelPath, be, warn);
        Tokenizer tok = null;
        if (tokenizerPath != null) tok = Tokenizer.load(tokenizerPath);
        else {
            Path guess = tokenizerBeside(modelPath);
            if (guess != null) {
                try {
                    tok = Tokenizer.load(guess);
                } catch (FormatException e) {
                    warn.accept("warning: no usable tokenizer at " + guess + ": " + e.getMessage());
                }
            }
        }
        if (tok != null && tok.vocabSize() > m.spec.vocab)
            throw new FormatException("tokenizer " + tok.source() + " has " + tok.vocabSize() + " tokens but the model's vocabulary has " + m.spec.vocab);
        String tpl = null;
        if (templatePath != null) tpl = InputFile.text(templatePath, "chat template");
        else if (tok != null) tpl = tok.chatTemplate().orElse(null);
        Set<Integer> stops = new LinkedHashSet<>();
        for (int e : m.spec.eosIds) stops.add(e);
        stops.addAll(generationConfigEos(modelPath));
        if (tok != null) {
            for (int e : tok.eosIds()) stops.add(e);
            for (String s : END_OF_TURN) tok.tokenId(s).ifPresent(stops::add);
        }
        return new ModelBundle(m, tok, tpl, stops);
    }

    private static Path tokenizerBeside(Path modelPath) {
        if (Files.isDirectory(modelPath)) {
            if (Files.exists(modelPath.resolve("tokenizer.json")) || Files.exists(modelPath.resolve("tokenizer.model"))) return modelPath;
            return null;
        }
        return jllm.formats.gguf.GgufFile.isGguf(modelPath) ? modelPath : null;
    }

    private static Set<Integer> generationConfigEos(Path modelPath) {
        Set<Integer> out = new LinkedHashSet<>();
        Path gc = Files.isDirectory(modelPath) ? modelPath.resolve("generation_config.json") : null;
        if (gc == null || !Files.exists(gc)) return out;
        var n = InputFile.json(gc, null).get("eos_token_id");
        if (n != null && n.isArray()) n.forEach(e -> out.add(e.asInt()));
        else if (n != null && n.canConvertToInt()) out.add(n.asInt());
        return out;
    }

    public Set<Integer> stopIds() { return stopIds; }

    public Tokenizer requireTokenizer() {
        if (tokenizer == null) throw new IllegalArgumentException("this model has no tokenizer beside it; pass --tokenizer PATH");
        return tokenizer;
    }

    public boolean hasChatTemplate() { return templateSource != null; }

    /** Renders the conversation with the model's chat template, ending with the assistant's turn opener. */
    public String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        if (templateSource == null) throw new IllegalArgumentException("this model has no chat template; pass --chat-template FILE");
        if (template == null) template = ChatTemplate.compile(templateSource);
        Map<String, Object> ctx = new LinkedHashMap<>();
        if (tokenizer != null) ctx.putAll(tokenizer.specialTokens());
        ctx.put("messages", messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        return template.render(ctx);
    }

    /** Prompt text to ids the way {@code tokenizer(text)} does (special tokens added). */
    public int[] encodePrompt(String text) { return requireTokenizer().encode(text, true); }

    /** Rendered chat to ids: the template already holds the special tokens ({@code add_special_tokens=False}). */
    public int[] encodeChat(String rendered) { return requireTokenizer().encode(rendered, false); }

    public static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** Prints the decoded text as tokens arrive, holding back incomplete UTF-8 sequences. */
    public final class Streamer implements Generator.TokenListener {
        private final List<Integer> ids = new ArrayList<>();
        private final Consumer<String> out;
        private int printed;

        public Streamer(Consumer<String> out) { this.out = out; }

        @Override
        public void token(int id) {
            ids.add(id);
            String text = requireTokenizer().decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
            if (text.endsWith("\uFFFD")) return;
            if (text.length() > printed) {
                out.accept(text.substring(printed));
                printed = text.length();
            }
        }
    }
}
