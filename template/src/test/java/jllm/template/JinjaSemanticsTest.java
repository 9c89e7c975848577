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
 * Small templates exercising jinja2 semantics one by one; expectations come from Python jinja2
 * configured like transformers (tools/gen_jinja_cases.py writes jinja-cases.json).
 */
class JinjaSemanticsTest {
    @Test
    @SuppressWarnings("unchecked")
    void matchesPythonJinja2() throws Exception {
        Map<String, Object> doc;
        try (InputStream in = getClass().getResourceAsStream("jinja-cases.json")) {
            doc = new ObjectMapper().readValue(in, Map.class);
        }
        Map<String, Object> ctx = (Map<String, Object>) doc.get("context");
        LocalDateTime now = LocalDateTime.parse((String) doc.get("now"));
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
            // Syntax errors only need to be syntax errors: jinja2's wording is not part of the contract.
            boolean ok = want.startsWith("error: TemplateSyntaxError") ? got.startsWith("error: TemplateSyntaxError") : got.equals(want);
            if (!ok) failures.add(c.get("name") + "\n    want " + want + "\n    got  " + got);
        }
        System.out.println("[jinja-cases] " + (total - failures.size()) + "/" + total + " match jinja2");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures);
    }
}
