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
 * Seeded random expressions (operators, filters, tests, methods, slices over mixed Python values)
 * against jinja2's results, from tools/gen_expr_fuzz.py. Renderings and error types must match; error
 * messages must match too except for the few Python-internal wordings listed in {@link #LOOSE}.
 */
class ExprFuzzTest {
    /** Error types whose wording comes from CPython internals rather than from jinja2 or the template. */
    private static final List<String> LOOSE = List.of();

    @Test
    @SuppressWarnings("unchecked")
    void randomExpressionsMatchJinja2() throws Exception {
        Map<String, Object> doc;
        try (InputStream in = getClass().getResourceAsStream("expr-fuzz.json")) {
            doc = new ObjectMapper().readValue(in, Map.class);
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
            boolean ok = got.equals(want);
            if (!ok && want.startsWith("error: ") && got.startsWith("error: ")) {
                String wk = want.substring(7, want.indexOf(':', 7)), gk = got.substring(7, got.indexOf(':', 7));
                ok = wk.equals(gk) && LOOSE.contains(wk);
            }
            if (!ok) failures.add(c.get("template") + "\n    want " + want + "\n    got  " + got);
        }
        System.out.println("[expr-fuzz] " + (total - failures.size()) + "/" + total + " match jinja2");
        failures.forEach(f -> System.out.println("  " + f));
        assertEquals(List.of(), failures);
    }
}
