package jllm.template;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The real templates of the fixtures over conversations the fixtures lack (content parts, reasoning,
 * string tool arguments, several tools, empty, unicode-heavy, template kwargs); expectations are
 * SHA-256 digests of Python jinja2's renderings (tools/gen_template_matrix.py).
 */
class TemplateMatrixTest {
    @Test
    @SuppressWarnings("unchecked")
    void realTemplatesOverMoreConversations() throws Exception {
        Path dir = Fixtures.chatTemplates();
        assertTrue(Files.isDirectory(dir), "fixtures not found at " + dir);
        Map<String, Object> doc;
        try (InputStream in = getClass().getResourceAsStream("template-matrix.json")) {
            doc = new ObjectMapper().readValue(in, Map.class);
        }
        LocalDateTime now = LocalDateTime.parse((String) doc.get("now"));
        Map<String, Object> convs = (Map<String, Object>) doc.get("conversations");
        List<Map<String, Object>> kwargs = (List<Map<String, Object>>) doc.get("kwargs");
        Map<String, ChatTemplate> compiled = new HashMap<>();
        List<String> failures = new ArrayList<>();
        int total = 0;
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Map<String, Object> c : (List<Map<String, Object>>) doc.get("cases")) {
            total++;
            String name = (String) c.get("template");
            ChatTemplate t = compiled.computeIfAbsent(name, n -> {
                try {
                    return ChatTemplate.compile(Files.readString(dir.resolve(n)));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Map<String, Object> ctx = new LinkedHashMap<>();
            ctx.put("messages", convs.get(c.get("conversation")));
            ctx.put("add_generation_prompt", c.get("add_generation_prompt"));
            ctx.put("bos_token", "<s>");
            ctx.put("eos_token", "</s>");
            ctx.putAll(kwargs.get(((Number) c.get("kwargs")).intValue()));
            if (Boolean.TRUE.equals(c.get("tools"))) ctx.put("tools", doc.get("tools"));
            String got;
            try {
                String out = t.render(ctx, now);
                got = "sha256 " + HexFormat.of().formatHex(sha.digest(out.getBytes(StandardCharsets.UTF_8))) + " length "
                        + out.codePointCount(0, out.length());
            } catch (TemplateException e) {
                got = "error " + e.describe();
            }
            String want = c.containsKey("error") ? "error " + c.get("error") : "sha256 " + c.get("sha256") + " length " + c.get("length");
            if (!got.equals(want)) failures.add(name + " [" + c.get("conversation") + ", gen=" + c.get("add_generation_prompt")
                    + ", tools=" + c.get("tools") + ", kwargs=" + c.get("kwargs") + "]\n    want " + want + "\n    got  " + got);
        }
        System.out.println("[template-matrix] " + (total - failures.size()) + "/" + total + " match jinja2");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures);
    }
}
