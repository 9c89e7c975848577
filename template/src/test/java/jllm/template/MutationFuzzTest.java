package jllm.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Randomly mutated real chat templates (chunks deleted, duplicated, moved; tag and quote characters
 * inserted) must either render or fail with a {@link TemplateException} (a one-line error); never any
 * other exception, a hang or a stack overflow.
 */
class MutationFuzzTest {
    private static final String NOISE = "{}%#-+()[]'\",.|~*/ \n\tifendforsetmacroloop";

    @Test
    @SuppressWarnings("unchecked")
    void mutatedTemplatesFailCleanly() throws Exception {
        Path dir = Fixtures.chatTemplates();
        assertTrue(Files.isDirectory(dir), "fixtures not found at " + dir);
        List<String> sources = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".jinja")).sorted().toList()) sources.add(Files.readString(p));
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> ctx = new LinkedHashMap<>();
        ctx.put("messages", ((Map<String, Object>) json.readValue(dir.resolve("conversations.json").toFile(), Map.class)).get("tool_call"));
        ctx.put("tools", json.readValue(dir.resolve("tools.json").toFile(), List.class));
        ctx.put("add_generation_prompt", true);
        ctx.put("bos_token", "<s>");
        ctx.put("eos_token", "</s>");
        Limits limits = new Limits(2_000_000, 2_000_000, 1_000_000, 50, 128);
        // -Djllm.fuzz.iterations / -Djllm.fuzz.seed widen a local run; the defaults keep `mvn verify` fast.
        int iterations = Integer.getInteger("jllm.fuzz.iterations", 3000);
        Random r = new Random(Long.getLong("jllm.fuzz.seed", 12345L));
        List<String> crashes = new ArrayList<>();
        int rendered = 0, rejected = 0;
        for (int i = 0; i < iterations; i++) {
            String src = mutate(sources.get(r.nextInt(sources.size())), r);
            try {
                ChatTemplate.compile(src, limits).render(ctx, LocalDateTime.of(2026, 1, 15, 12, 0));
                rendered++;
            } catch (TemplateException e) {
                rejected++;
                if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n") && !e.kind().equals("TemplateError"))
                    crashes.add("unclear message: " + e.describe());
            } catch (RuntimeException | StackOverflowError e) {
                crashes.add(e + " at " + (e.getStackTrace().length > 0 ? e.getStackTrace()[0] : "?"));
            }
        }
        System.out.println("[mutation-fuzz] " + iterations + " mutated templates: " + rendered + " rendered, " + rejected + " rejected cleanly, "
                + crashes.size() + " crashes");
        crashes.stream().limit(20).forEach(c -> System.out.println("  " + c));
        assertEquals(List.of(), crashes);
    }

    private static String mutate(String s, Random r) {
        StringBuilder sb = new StringBuilder(s);
        int edits = 1 + r.nextInt(6);
        for (int k = 0; k < edits && sb.length() > 0; k++) {
            int at = r.nextInt(sb.length());
            int len = Math.min(sb.length() - at, 1 + r.nextInt(40));
            switch (r.nextInt(4)) {
                case 0 -> sb.delete(at, at + len);
                case 1 -> sb.insert(r.nextInt(sb.length()), sb.substring(at, at + len));
                case 2 -> {
                    for (int j = 0; j < 1 + r.nextInt(3); j++) sb.insert(r.nextInt(sb.length() + 1), NOISE.charAt(r.nextInt(NOISE.length())));
                }
                default -> {
                    String chunk = sb.substring(at, at + len);
                    sb.delete(at, at + len);
                    sb.insert(r.nextInt(sb.length() + 1), chunk);
                }
            }
        }
        return sb.toString();
    }
}
