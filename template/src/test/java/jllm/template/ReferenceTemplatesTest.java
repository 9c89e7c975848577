package jllm.template;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every real chat template of the fixtures renders byte-identically to transformers' jinja2 (or raises the same error). */
class ReferenceTemplatesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @SuppressWarnings("unchecked")
    void rendersLikeTransformers() throws Exception {
        Path dir = Fixtures.chatTemplates();
        assertTrue(Files.isRegularFile(dir.resolve("reference.json")), "fixtures not found at " + dir);
        Map<String, Object> ref = JSON.readValue(dir.resolve("reference.json").toFile(), Map.class);
        Map<String, Object> convs = JSON.readValue(dir.resolve("conversations.json").toFile(), Map.class);
        List<Object> tools = JSON.readValue(dir.resolve("tools.json").toFile(), List.class);
        int total = 0, passed = 0, errorsExpected = 0, sameErrorText = 0;
        List<String> failures = new ArrayList<>();
        for (var e : ((Map<String, Map<String, Object>>) ref.get("templates")).entrySet()) {
            String source = Files.readString(dir.resolve(e.getKey()));
            ChatTemplate t;
            try {
                t = ChatTemplate.compile(source);
            } catch (TemplateException ex) {
                failures.add(e.getKey() + ": does not compile: " + ex.describe());
                total += ((List<?>) e.getValue().get("cases")).size();
                continue;
            }
            for (Map<String, Object> c : (List<Map<String, Object>>) e.getValue().get("cases")) {
                total++;
                Map<String, Object> ctx = new LinkedHashMap<>();
                ctx.put("messages", convs.get(c.get("conversation")));
                ctx.put("add_generation_prompt", c.get("add_generation_prompt"));
                ctx.put("bos_token", "<s>");
                ctx.put("eos_token", "</s>");
                if (Boolean.TRUE.equals(c.get("tools"))) ctx.put("tools", tools);
                ctx.put("now", "2026-01-15T12:00:00");
                String label = e.getKey() + " [" + c.get("conversation") + ", gen=" + c.get("add_generation_prompt") + "]";
                String got, err = null;
                try {
                    got = t.render(ctx);
                } catch (TemplateException ex) {
                    got = null;
                    err = ex.describe();
                }
                if (c.containsKey("error")) {
                    errorsExpected++;
                    if (err != null) {
                        passed++;
                        if (err.equals(c.get("error"))) sameErrorText++;
                        else failures.add("(error text only) " + label + ": expected " + c.get("error") + ", got " + err);
                    } else failures.add(label + ": expected error " + c.get("error") + ", rendered instead");
                } else if (err != null) {
                    failures.add(label + ": raised " + err);
                } else if (!got.equals(c.get("rendered"))) {
                    failures.add(label + ": output differs at char " + firstDiff(got, (String) c.get("rendered")) + "\n  got: "
                            + snippet(got, firstDiff(got, (String) c.get("rendered"))) + "\n  exp: "
                            + snippet((String) c.get("rendered"), firstDiff(got, (String) c.get("rendered"))));
                } else passed++;
            }
        }
        System.out.println("[chat-templates] " + passed + "/" + total + " cases match transformers; " + sameErrorText + "/"
                + errorsExpected + " expected errors with identical text");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(total, passed, "cases not matching: " + failures.size());
        assertEquals(errorsExpected, sameErrorText, "error texts differ");
    }

    private static int firstDiff(String a, String b) {
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }

    private static String snippet(String s, int at) {
        int b = Math.max(0, at - 40), e = Math.min(s.length(), at + 60);
        return JSON_ESC(s.substring(b, e));
    }

    private static String JSON_ESC(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            return s;
        }
    }
}
