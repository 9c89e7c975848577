package jllm.train.export;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.template.ChatTemplate;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.train.TokenizerTrainer;
import jllm.train.Fixtures;
import jllm.train.data.ChatShape;
import jllm.train.data.Message;
import jllm.train.data.PromptFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Modelfile's TEMPLATE renders conversations exactly as the chat template does: checked against
 * the fixtures' reference renderings made by Python jinja2 (configured as transformers does), on every
 * real template whose structure translates.
 */
class ModelfileTest {
    static final LocalDateTime NOW = LocalDateTime.of(2026, 1, 15, 12, 0);
    @TempDir Path dir;

    @Test
    void translatedTemplatesRenderLikeJinja2OnTheFixtureConversations() throws IOException {
        ObjectMapper om = new ObjectMapper();
        Path root = Fixtures.root().resolve("chat-templates");
        JsonNode ref = om.readTree(root.resolve("reference.json").toFile());
        JsonNode convs = om.readTree(root.resolve("conversations.json").toFile());
        Map<String, Object> ctx = new LinkedHashMap<>(Map.of("bos_token", "<s>", "eos_token", "</s>", ChatTemplate.NOW_KEY, "2026-01-15T12:00:00"));
        List<String> translated = new ArrayList<>(), refused = new ArrayList<>();
        int compared = 0;
        for (var it = ref.get("templates").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            Path file = root.resolve(e.getKey());
            if (!Files.exists(file)) continue;
            ChatTemplate t = ChatTemplate.compile(Files.readString(file));
            String go;
            String system;
            try {
                ChatShape shape = ChatShape.discover(t, ctx, "<s>");
                shape.verify(t, ctx);
                go = OllamaTemplate.translate(shape, false);
                system = shape.defaultSystem == null || shape.defaultSystem.isEmpty() ? null : shape.defaultSystem;
                Modelfile.verifyGo(go, system, t, ctx, shape.bos, false);
            } catch (ChatShape.Unsupported x) {
                refused.add(e.getKey() + ": " + x.getMessage());
                continue;
            }
            translated.add(e.getKey());
            GoTemplate g = GoTemplate.parse(go);
            for (JsonNode c : e.getValue().get("cases")) {
                if (c.get("tools").asBoolean() || !c.has("rendered")) continue;
                List<Message> conv = new ArrayList<>();
                for (JsonNode m : convs.get(c.get("conversation").asText())) conv.add(new Message(m.get("role").asText(), m.get("content").asText()));
                boolean userLast = conv.getLast().role().equals(Message.USER);
                if (userLast != c.get("add_generation_prompt").asBoolean()) continue; // Ollama prompts for a reply after every user turn
                if (system != null && !conv.getFirst().role().equals(Message.SYSTEM)) conv.addFirst(new Message(Message.SYSTEM, system));
                assertEquals(c.get("rendered").asText(), g.execute(OllamaTemplate.ollamaData(conv)), e.getKey() + " / " + c.get("conversation").asText());
                compared++;
            }
        }
        System.out.printf("Ollama TEMPLATE: %d of %d fixture templates translate (%d renderings equal jinja2's); not translated:%n  %s%n",
                translated.size(), translated.size() + refused.size(), compared, String.join("\n  ", refused));
        assertTrue(translated.containsAll(List.of("meta-llama-Llama-3.1-8B-Instruct.jinja", "meta-llama-Llama-3.2-3B-Instruct.jinja",
                "meta-llama-Llama-3.3-70B-Instruct.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja", "hf-gemma3.jinja", "hf-qwen3.jinja")), translated.toString());
        assertTrue(translated.size() >= 20, translated.size() + " translated");
    }

    @Test
    void modelfileForTheFixtureTokenizers() {
        Tokenizer gemma = Fixtures.tokenizer("gemma3");
        Modelfile.Result r = Modelfile.build("gemma.gguf", gemma.chatTemplate().orElseThrow(), gemma, null, NOW);
        assertTrue(r.hasTemplate(), r.warnings().toString());
        assertTrue(r.text().contains("FROM ./gemma.gguf\n"));
        assertTrue(r.text().contains("PARAMETER stop \"<end_of_turn>\"\n"), r.text());
        String template = between(r.text(), "TEMPLATE \"\"\"", "\"\"\"");
        assertFalse(template.contains("<bos>"), "gemma's tokenizer adds BOS itself, so the TEMPLATE leaves it out");
        for (char c : template.toCharArray()) assertTrue(c == '\n' || OllamaTemplate.printable(c), "Ollama's parser would drop U+" + Integer.toHexString(c));
        String got = GoTemplate.parse(template).execute(OllamaTemplate.ollamaData(List.of(new Message("system", "Be brief."), new Message("user", "Hi"))));
        assertEquals("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n", got);

        Tokenizer qwen = Fixtures.tokenizer("qwen3");
        Modelfile.Result q = Modelfile.build("/models/q.gguf", qwen.chatTemplate().orElseThrow(), qwen, null, NOW);
        assertTrue(q.hasTemplate(), q.warnings().toString());
        assertTrue(q.text().contains("FROM /models/q.gguf\n"));
        assertTrue(q.text().contains("PARAMETER stop \"<|im_end|>\"\n"), q.text());
    }

    @Test
    void untranslatableTemplateGivesAModelfileWithoutTemplateAndAWarning() throws IOException {
        Tokenizer llama3 = Fixtures.tokenizer("llama3");
        // The fixture's Llama 3 template ignores add_generation_prompt (always ends with the assistant header).
        Modelfile.Result r = Modelfile.build("m.gguf", llama3.chatTemplate().orElseThrow(), llama3, null, NOW);
        assertFalse(r.hasTemplate());
        assertTrue(r.warnings().getFirst().contains("Modelfile written without TEMPLATE"), r.warnings().toString());
        assertTrue(r.text().contains("FROM ./m.gguf") && !r.text().contains("TEMPLATE \"\"\""));
        Path p = Modelfile.write(dir.resolve("Modelfile"), false, List.of(), r);
        assertEquals(r.text(), Files.readString(p));
        assertThrows(jllm.formats.FormatException.class, () -> Modelfile.write(dir.resolve("Modelfile"), false, List.of(), r));
    }

    @Test
    void dateInTheTemplateIsReported() throws IOException {
        Tokenizer qwen = Fixtures.tokenizer("qwen3");
        String t = Files.readString(Fixtures.root().resolve("chat-templates/meta-llama-Llama-3.2-3B-Instruct.jinja"));
        Modelfile.Result r = Modelfile.build("m.gguf", t, qwen, null, NOW);
        assertTrue(r.hasTemplate(), r.warnings().toString());
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("current date") && w.contains("2026-01-15")), r.warnings().toString());
        assertTrue(r.text().contains("15 Jan 2026"));
    }

    @Test
    void plainPromptFormat() {
        Tokenizer tok = TokenizerTrainer.train("abc abc abd", TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 260), null).load();
        PromptFormat f = PromptFormat.plain("Answer 0 or 1.", true, "<|eos|>", PromptFormat.Input.of(PromptFormat.Kind.PROMPT_COMPLETION));
        Modelfile.Result r = Modelfile.build("m.gguf", null, tok, f, NOW);
        assertTrue(r.text().contains("TEMPLATE \"\"\"{{- if .System }}{{ .System }}{{ \"\\n\\n\" }}{{ end }}{{ .Prompt }}\"\"\"\n"), r.text());
        assertTrue(r.text().contains("SYSTEM \"\"\"Answer 0 or 1.\"\"\"\n"));
        assertTrue(r.text().contains("PARAMETER stop \"<|eos|>\"\n"));
    }

    @Test
    void bosIsDroppedFromTheJinjaTemplateOnlyWhenThatIsExact() throws IOException {
        Map<String, Object> ctx = Map.of("bos_token", "<s>", "eos_token", "</s>");
        String llama31 = Files.readString(Fixtures.root().resolve("chat-templates/meta-llama-Llama-3.1-8B-Instruct.jinja"));
        TemplateBos.Result r = TemplateBos.withoutLeadingBos(llama31, ctx, "<s>");
        assertTrue(r.changed(), String.valueOf(r.warning()));
        assertFalse(r.template().contains("bos_token"));
        String qwen = Files.readString(Fixtures.root().resolve("chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
        TemplateBos.Result q = TemplateBos.withoutLeadingBos(qwen, ctx, "<s>");
        assertFalse(q.changed());
        assertNull(q.warning(), "a template that writes no BOS needs nothing");
        String perTurn = "{% for m in messages %}{{ bos_token }}[{{ m.role }}] {{ m.content }}\n{% endfor %}";
        TemplateBos.Result p = TemplateBos.withoutLeadingBos(perTurn, ctx, "<s>");
        assertFalse(p.changed());
        assertTrue(p.warning().contains("more places than the start"));
        String concat = "{{ bos_token + 'X' }}{% for m in messages %}{{ m.content }}{% endfor %}";
        TemplateBos.Result c = TemplateBos.withoutLeadingBos(concat, ctx, "<s>");
        assertTrue(c.changed());
        assertTrue(c.template().startsWith("{% set bos_token = '' %}"));
    }

    static String between(String s, String a, String b) {
        int i = s.indexOf(a) + a.length();
        return s.substring(i, s.indexOf(b, i));
    }
}
