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
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Real templates with random edits, replayed from tools/gen_mutation_diff.py, must render exactly as
 * jinja2 rendered them (digest) or raise the same error; syntax errors only need to be syntax errors.
 */
class MutationDiffTest {
    @Test
    @SuppressWarnings("unchecked")
    void editedRealTemplatesMatchJinja2() throws Exception {
        Path dir = Fixtures.chatTemplates();
        assertTrue(Files.isDirectory(dir), "fixtures not found at " + dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> doc;
        try (InputStream in = getClass().getResourceAsStream("mutation-diff.json")) {
            doc = json.readValue(in, Map.class);
        }
        Map<String, Object> ctx = new LinkedHashMap<>();
        ctx.put("messages", ((Map<String, Object>) json.readValue(dir.resolve("conversations.json").toFile(), Map.class)).get("tool_call"));
        ctx.put("tools", json.readValue(dir.resolve("tools.json").toFile(), List.class));
        ctx.put("add_generation_prompt", true);
        ctx.put("bos_token", "<s>");
        ctx.put("eos_token", "</s>");
        LocalDateTime now = LocalDateTime.of(2026, 1, 15, 12, 0);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        List<String> failures = new ArrayList<>();
        int total = 0;
        for (Map<String, Object> c : (List<Map<String, Object>>) doc.get("cases")) {
            total++;
            String src = Files.readString(dir.resolve((String) c.get("template")));
            for (List<Object> e : (List<List<Object>>) c.get("edits")) src = apply(src, e);
            String got;
            try {
                String out = ChatTemplate.compile(src).render(ctx, now);
                got = "sha256 " + HexFormat.of().formatHex(sha.digest(out.getBytes(StandardCharsets.UTF_8))) + " length "
                        + out.codePointCount(0, out.length());
            } catch (TemplateException ex) {
                got = "error " + ex.describe();
            }
            String want = c.containsKey("error") ? "error " + c.get("error") : "sha256 " + c.get("sha256") + " length " + c.get("length");
            boolean ok = want.startsWith("error TemplateSyntaxError") ? got.startsWith("error TemplateSyntaxError") : got.equals(want);
            if (!ok) failures.add(c.get("template") + " " + json.writeValueAsString(c.get("edits")) + "\n    want " + want + "\n    got  " + got);
        }
        System.out.println("[mutation-diff] " + (total - failures.size()) + "/" + total + " edited real templates match jinja2");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures);
    }

    /** One edit in code-point offsets (Python string indices): ["delete", at, n, ""] or ["insert", at, 0, text]. */
    private static String apply(String s, List<Object> e) {
        int at = s.offsetByCodePoints(0, ((Number) e.get(1)).intValue());
        if (e.get(0).equals("delete")) {
            int end = s.offsetByCodePoints(at, ((Number) e.get(2)).intValue());
            return s.substring(0, at) + s.substring(end);
        }
        return s.substring(0, at) + e.get(3) + s.substring(at);
    }
}
