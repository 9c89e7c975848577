package jllm.template;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Seeded random inputs against jinja2's results: expressions (operators, filters, tests, methods,
 * slices over mixed Python values; tools/gen_expr_fuzz.py) and whole templates (text, whitespace and
 * block tags with random whitespace markers; tools/gen_stmt_fuzz.py). Renderings and errors must match
 * exactly, except that syntax errors only need to be syntax errors.
 */
class FuzzTest {
    @Test
    void randomExpressionsMatchJinja2() throws Exception {
        check("expr-fuzz.json");
    }

    @Test
    void randomTemplatesMatchJinja2() throws Exception {
        check("stmt-fuzz.json");
    }

    @SuppressWarnings("unchecked")
    private void check(String file) throws Exception {
        Map<String, Object> doc;
        ObjectMapper json = new ObjectMapper();
        try (InputStream in = getClass().getResourceAsStream(file)) {
            doc = json.readValue(in, Map.class);
        }
        Map<String, Object> ctx = (Map<String, Object>) doc.get("context");
        LocalDateTime now = LocalDateTime.parse("2026-01-15T12:00:00");
        List<String> failures = new ArrayList<>();
        int total = 0;
        for (Map<String, Object> c : (List<Map<String, Object>>) doc.get("cases")) {
            total++;
            String got;
            try {
                got = "rendered: " + ChatTemplate.compile((String) c.get("template")).render(ctx, now);
            } catch (TemplateException e) {
                got = "error: " + e.describe();
            }
            String want = c.containsKey("rendered") ? "rendered: " + c.get("rendered") : "error: " + c.get("error");
            boolean ok = want.startsWith("error: TemplateSyntaxError") ? got.startsWith("error: TemplateSyntaxError") : got.equals(want);
            if (!ok) failures.add(json.writeValueAsString(c.get("template")) + "\n    want " + json.writeValueAsString(want)
                    + "\n    got  " + json.writeValueAsString(got));
        }
        System.out.println("[" + file + "] " + (total - failures.size()) + "/" + total + " match jinja2");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures);
    }
}
