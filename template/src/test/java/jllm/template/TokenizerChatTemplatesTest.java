package jllm.template;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chat templates shipped in the fixture tokenizers' tokenizer_config.json, rendered as
 * transformers' apply_chat_template did for fixtures/tokenizers/reference.json (special tokens of the
 * config passed as variables, add_generation_prompt=True).
 */
class TokenizerChatTemplatesTest {
    @Test
    @SuppressWarnings("unchecked")
    void matchesApplyChatTemplate() throws Exception {
        Path dir = Fixtures.root().resolve("tokenizers");
        assertTrue(Files.isRegularFile(dir.resolve("reference.json")), "fixtures not found at " + dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> models = (Map<String, Object>) json.readValue(dir.resolve("reference.json").toFile(), Map.class).get("models");
        int checked = 0;
        for (var e : models.entrySet()) {
            List<Map<String, Object>> chats = (List<Map<String, Object>>) ((Map<String, Object>) e.getValue()).get("chat");
            if (chats == null || chats.isEmpty()) continue;
            Map<String, Object> config = json.readValue(dir.resolve(e.getKey()).resolve("tokenizer_config.json").toFile(), Map.class);
            ChatTemplate t = ChatTemplate.compile((String) config.get("chat_template"));
            Map<String, Object> vars = new LinkedHashMap<>();
            for (String k : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                Object v = config.get(k);
                if (v instanceof Map<?, ?> m) v = m.get("content");
                if (v != null) vars.put(k, v);
            }
            for (Map<String, Object> chat : chats) {
                Map<String, Object> ctx = new LinkedHashMap<>(vars);
                ctx.put("messages", chat.get("messages"));
                ctx.put("add_generation_prompt", true);
                assertEquals(chat.get("rendered"), t.render(ctx), e.getKey() + " " + chat.get("messages"));
                checked++;
            }
        }
        System.out.println("[tokenizer chat templates] " + checked + " renderings match transformers");
        assertEquals(9, checked);
    }
}
