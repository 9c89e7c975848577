package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end: {@code jllm template render} through picocli, stdout/stderr captured. */
class TemplateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, byte[] out, String err) {
        String outText() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var cl = Main.commandLine();
            cl.setOut(new PrintWriter(System.out, true));
            cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
            int code = cl.execute(args);
            return new Run(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    static Path templates() {
        return jllm.testkit.Fixtures.path("chat-templates");
    }

    @Test
    @SuppressWarnings("unchecked")
    void rendersARealTemplateByteForByte(@TempDir Path tmp) throws Exception {
        Path dir = templates();
        assertTrue(Files.isRegularFile(dir.resolve("reference.json")), "fixtures not found");
        Map<String, Object> convs = JSON.readValue(dir.resolve("conversations.json").toFile(), Map.class);
        List<Object> tools = JSON.readValue(dir.resolve("tools.json").toFile(), List.class);
        Map<String, Object> ref = JSON.readValue(dir.resolve("reference.json").toFile(), Map.class);
        for (String name : List.of("meta-llama-Llama-3.1-8B-Instruct.jinja", "hf-qwen3.jinja", "Apertus-8B-Instruct.jinja")) {
            var cases = (List<Map<String, Object>>) ((Map<String, Object>) ((Map<String, Object>) ref.get("templates")).get(name)).get("cases");
            Map<String, Object> c = cases.stream().filter(x -> x.get("conversation").equals("tool_call")).findFirst().orElseThrow();
            Map<String, Object> ctx = new LinkedHashMap<>();
            ctx.put("messages", convs.get("tool_call"));
            ctx.put("add_generation_prompt", c.get("add_generation_prompt"));
            ctx.put("bos_token", "<s>");
            ctx.put("eos_token", "</s>");
            ctx.put("tools", tools);
            ctx.put("now", "2026-01-15T12:00:00");
            Path ctxFile = tmp.resolve("ctx.json");
            JSON.writeValue(ctxFile.toFile(), ctx);
            Run r = run("template", "render", dir.resolve(name).toString(), "--context", ctxFile.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(c.get("rendered"), r.outText(), name);
            assertEquals("", r.err());
        }
    }

    @Test
    void nothingIsAddedToTheOutput(@TempDir Path tmp) throws Exception {
        Path t = Files.writeString(tmp.resolve("t.jinja"), "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
        Path ctx = Files.writeString(tmp.resolve("c.json"), "{\"bos_token\": \"<s>\", \"messages\": [{\"content\": \"héllo ☀️\"}]}");
        Run r = run("template", "render", t.toString(), "--context", ctx.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("<s>héllo ☀️", r.outText());
    }

    @Test
    void templateRaiseExitsWithThreeAndTheTemplatesMessage(@TempDir Path tmp) throws Exception {
        Path dir = templates();
        assertTrue(Files.isDirectory(dir), "fixtures not found");
        Path ctx = Files.writeString(tmp.resolve("c.json"),
                "{\"messages\": [{\"role\": \"assistant\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}],"
                        + " \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_generation_prompt\": true}");
        Run r = run("template", "render", dir.resolve("mistralai-Mistral-Nemo-Instruct-2407.jinja").toString(), "--context", ctx.toString());
        assertEquals(3, r.code());
        assertEquals(0, r.out().length);
        assertEquals("error: After the optional system message, conversation roles must alternate user/assistant/user/assistant/...",
                r.err().strip());
    }

    @Test
    void templateBombsAndHostileContextsAreOneLine(@TempDir Path tmp) throws Exception {
        Path ctx = Files.writeString(tmp.resolve("c.json"), "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        for (String bomb : List.of("{{ 'a' * 10**9 }}", "{{ '%999999999d'|format(1) }}", "{{ ' '|center(2**31) }}",
                "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                "{% for i in range(10**5) %}{% for j in range(10**5) %}{% endfor %}{% endfor %}",
                "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "{{ " + "(".repeat(100_000) + "1" + ")".repeat(100_000) + " }}")) {
            Path t = Files.writeString(tmp.resolve("bomb.jinja"), bomb);
            Run r = run("template", "render", t.toString(), "--context", ctx.toString());
            assertEquals(3, r.code(), r.err());
            assertEquals(0, r.out().length);
            assertTrue(r.err().startsWith("error: ") && r.err().strip().lines().count() == 1, r.err());
        }
        // Upper-casing a tool schema a hostile context made of 'ß' used to take seconds (quadratic); now linear.
        Path upper = Files.writeString(tmp.resolve("u.jinja"), "{% for t in tools %}{{ t.type|upper }}{% endfor %}");
        Path sz = Files.writeString(tmp.resolve("sz.json"), "{\"tools\": [{\"type\": \"" + "ß".repeat(200_000) + "\"}]}");
        Run u = run("template", "render", upper.toString(), "--context", sz.toString());
        assertEquals(0, u.code(), u.err());
        assertEquals("SS".repeat(200_000), u.outText());
        // A context nested deeper than JSON parsers accept is refused as bad input.
        Path deep = Files.writeString(tmp.resolve("deep.json"), "{\"x\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}");
        Run d = run("template", "render", upper.toString(), "--context", deep.toString());
        assertEquals(2, d.code(), d.err());
        assertTrue(d.err().startsWith("error: --context " + deep + ": not valid JSON: Document nesting depth (1001) exceeds the maximum allowed (1000)")
                && d.err().strip().lines().count() == 1, d.err());
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path tmp) throws Exception {
        Path t = Files.writeString(tmp.resolve("t.jinja"), "{{ x }}");
        Path badJson = Files.writeString(tmp.resolve("c.json"), "{not json");
        Run r = run("template", "render", t.toString(), "--context", badJson.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: --context " + badJson + ": not valid JSON at line 1, column 2") && r.err().strip().lines().count() == 1, r.err());
        Run missing = run("template", "render", tmp.resolve("nope.jinja").toString(), "--context", badJson.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("error: template ") && missing.err().contains("nope.jinja: no such file"), missing.err());
        Path syntax = Files.writeString(tmp.resolve("s.jinja"), "{% if %}");
        Path ctx = Files.writeString(tmp.resolve("ok.json"), "{}");
        Run bad = run("template", "render", syntax.toString(), "--context", ctx.toString());
        assertEquals(3, bad.code());
        assertTrue(bad.err().startsWith("error: ") && bad.err().strip().lines().count() == 1, bad.err());
    }
}
