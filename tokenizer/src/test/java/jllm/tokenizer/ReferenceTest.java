package jllm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of tokenizers/reference.json (Rust tokenizers + transformers) for the four real tokenizers. */
class ReferenceTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3", "gemma3", "qwen3"})
    void matchesReference(String name) {
        Tokenizer tok = Fixtures.hf(name);
        JsonNode model = Fixtures.reference().path("models").path(name);
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (JsonNode c : model.path("cases")) {
            String text = c.get("text").asText();
            int[] ids = Fixtures.ints(c.get("ids"));
            int[] withSpecial = Fixtures.ints(c.get("ids_with_special"));
            int[] got = tok.encode(text, false);
            if (!Arrays.equals(ids, got)) failures.add("ids " + q(text) + " want " + Arrays.toString(ids) + " got " + Arrays.toString(got));
            int[] gotS = tok.encode(text, true);
            if (!Arrays.equals(withSpecial, gotS)) failures.add("ids_with_special " + q(text) + " want " + Arrays.toString(withSpecial) + " got " + Arrays.toString(gotS));
            String dec = tok.decode(ids);
            if (!c.get("decoded").asText().equals(dec)) failures.add("decoded " + q(text) + " want " + q(c.get("decoded").asText()) + " got " + q(dec));
            n += 3;
        }
        for (JsonNode c : model.path("chat")) {
            int[] want = Fixtures.ints(c.get("ids"));
            // apply_chat_template tokenizes the rendering with add_special_tokens=False (it already holds BOS).
            int[] got = tok.encode(c.get("rendered").asText(), false);
            if (!Arrays.equals(want, got)) {
                failures.add("chat " + q(c.get("rendered").asText()) + " want " + Arrays.toString(want) + " got " + Arrays.toString(got));
            }
            n++;
        }
        assertTrue(n > 1000, "too few cases: " + n);
        assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())), failures.size() + " of " + n + " failed");
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c < 32 || c > 126) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
