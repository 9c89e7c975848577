package jllm.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Template bombs: hostile templates and contexts that try to exhaust time, memory or the stack through
 * every kind of operation. Each must end with the engine's own error (a {@link TemplateException} of the
 * expected kind and message) under the default {@link Limits}, never with an OutOfMemoryError, a
 * StackOverflowError or a long run. The template module's tests run with a small heap (template/pom.xml),
 * so an allocation the budget misses fails the build. Linear-time operations that used to be slow
 * (case mapping, substring search, striptags) must finish and give Python's result.
 */
class TemplateBombTest {
    private static final LocalDateTime NOW = LocalDateTime.of(2026, 1, 15, 12, 0);
    /** A bomb stops within a fraction of its step limit's worth of work; this only catches hangs on a loaded machine. */
    private static final Duration HANG = Duration.ofSeconds(60);

    /** Wall time of each bomb, printed slowest first: the report of what the limits cost. */
    private static final Map<String, Long> TIMES = new java.util.concurrent.ConcurrentHashMap<>();

    @org.junit.jupiter.api.AfterAll
    static void report() {
        System.out.println("[template-bombs] " + TIMES.size() + " bombs; slowest:");
        TIMES.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                .forEach(e -> System.out.printf("  %6d ms  %s%n", e.getValue(), e.getKey()));
    }

    /**
     * Bombs that only the step limit stops run to it, which takes seconds under the default limit of
     * 20 million steps; the default run gives them a tenth of that (the same charges, stopped sooner) to
     * keep the suite fast. -Djllm.template.bombs.full=true runs them under the defaults.
     */
    private static final Limits STEP_BOMBS = Boolean.getBoolean("jllm.template.bombs.full") ? Limits.DEFAULT
            : Limits.DEFAULT.withMaxSteps(Limits.DEFAULT.maxSteps() / 10);

    private static TemplateException fails(String source, Map<String, Object> ctx, String kind, String fragment) {
        return fails(source, ctx, kind, fragment, Limits.DEFAULT);
    }

    private static TemplateException failsSteps(String source, Map<String, Object> ctx) {
        return fails(source, ctx, "LimitError", STEPS, STEP_BOMBS);
    }

    private static TemplateException failsSteps(String source) {
        return failsSteps(source, Map.of());
    }

    private static TemplateException fails(String source, Map<String, Object> ctx, String kind, String fragment, Limits limits) {
        long t0 = System.nanoTime();
        TemplateException e = assertTimeoutPreemptively(HANG,
                () -> assertThrows(TemplateException.class, () -> ChatTemplate.compile(source, limits).render(ctx, NOW)), source);
        TIMES.put(source.length() > 100 ? source.substring(0, 97) + "..." : source, (System.nanoTime() - t0) / 1_000_000);
        assertEquals(kind, e.kind(), e.describe());
        boolean any = false;
        for (String f : fragment.split("\\|")) any |= e.getMessage().contains(f);
        assertTrue(any, e.describe());
        return e;
    }

    private static TemplateException fails(String source, String kind, String fragment) {
        return fails(source, Map.of(), kind, fragment);
    }

    private static String renders(String source, Map<String, Object> ctx) {
        return assertTimeoutPreemptively(HANG, () -> ChatTemplate.compile(source).render(ctx, NOW), source);
    }

    private static final String SIZE = "for one string or list", MEMORY = "memory budget", STEPS = "step limit";
    /** Either of two limits may come first, depending on the defaults. */
    private static final String SIZE_OR_MEMORY = SIZE + "|" + MEMORY, STEPS_OR_MEMORY = STEPS + "|" + MEMORY;

    @Test
    void hugeValuesAreRefusedBeforeTheyAreBuilt() {
        fails("{{ ('a' * 10**9)|length }}", "LimitError", SIZE);
        fails("{{ ([0] * 10**9)|length }}", "LimitError", SIZE);
        fails("{{ ' '|center(2**31) }}", "LimitError", SIZE);
        fails("{{ 'x'.zfill(10**9) }}{{ 'x'.ljust(10**9) }}", "LimitError", SIZE);
        fails("{{ [1]|batch(10**9, 0)|list|length }}", "LimitError", SIZE);
        fails("{{ []|slice(10**9)|list|length }}", "LimitError", SIZE);
        fails("{{ ('a' * 10**7)|replace('a', 'b' * 1000) }}", "LimitError", SIZE);
        fails("{{ ('a' * 1000)|replace('', 'b' * 10**6) }}", "LimitError", SIZE);
        fails("{{ ('a\\n' * 1000)|indent(10**6) }}", "LimitError", SIZE);
        fails("{{ ('\\t' * 1000).expandtabs(10**6) }}", "LimitError", SIZE);
        fails("{{ strftime_now('%c' * 1000000) }}", "LimitError", SIZE + "|" + STEPS);
        fails("{{ 10 ** 1000000 }}", "LimitError", "too large");
        assertEquals("OverflowError", fails("{{ range(10**9)|list|length }}", "OverflowError", "MAX_RANGE").kind());
    }

    @Test
    void formatWidthsAndPrecisionsAreBounded() {
        fails("{{ '%999999999d'|format(1) }}", "LimitError", SIZE);
        fails("{{ '%.999999999f'|format(1.5) }}", "LimitError", SIZE);
        fails("{{ '%99999999999999999999d'|format(1) }}", "ValueError", "width too big");
        fails("{{ '%.99999999999f' % 1.5 }}", "ValueError", "precision too big");
        fails("{{ '{:999999999}'.format(1) }}", "LimitError", SIZE);
        fails("{{ '{:99999999999999999999}'.format(1) }}", "ValueError", "Too many decimal digits");
        fails("{{ '{:.99999999999f}'.format(1.5) }}", "ValueError", "precision too big");
        fails("{{ '{99999999999999999999}'.format(1) }}", "ValueError", "Too many decimal digits");
        fails("{{ '%.9999999e'|format(1.5) }}", "LimitError", SIZE);
    }

    @Test
    void doublingAndNestedJoinsHitTheSizeLimit() {
        fails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "LimitError", SIZE);
        fails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "LimitError", SIZE);
        fails("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", "LimitError", SIZE_OR_MEMORY);
        fails("{% set a = ['x' * 1000000] * 9 %}{% set b = [a|join] * 1000 %}{{ b|join|length }}", "LimitError", SIZE);
        // One string shared a thousand times: printing, serializing or joining it would be 9 GB.
        fails("{% set l = ['x' * 4000000] * 1000 %}{{ l|string|length }}", "LimitError", SIZE);
        fails("{% set l = ['x' * 4000000] * 1000 %}{{ l|tojson|length }}", "LimitError", SIZE);
        fails("{% set l = ['x' * 4000000] * 1000 %}{{ l|join|length }}", "LimitError", SIZE);
        fails("{% set l = ['x' * 4000000] * 1000 %}{{ '%s' % (l,) }}", "LimitError", SIZE);
        fails("{% set l = ['x' * 4000000] * 1000 %}{{ l|pprint|length }}", "LimitError", SIZE);
    }

    @Test
    void retainingManyValuesHitsTheMemoryBudget() {
        // Quadratic copying, as in Python: each step copies the whole list.
        failsSteps("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}");
        // Each step is cheap and each value small enough: only the running total of bytes stops these.
        fails("{% set ns = namespace(l=[]) %}{% set big = 'x' * 4000000 %}{% for i in range(2000) %}{% set ns.l = ns.l + [big ~ i] %}{% endfor %}",
                "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(2000) %}{% set ns.l = ns.l + [(s ~ i)|e] %}{% endfor %}",
                Map.of("s", "<".repeat(1_000_000)), "LimitError", MEMORY);
        fails("{% set ns = namespace(d={}) %}{% for i in range(100000) %}{% set ns.d = dict(ns.d, **{i|string: i}) %}{% endfor %}",
                "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = ns.l + [s.upper()] %}{% endfor %}",
                Map.of("s", "ab".repeat(500_000)), "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = ns.l + [s|tojson] %}{% endfor %}",
                Map.of("s", "a\"".repeat(500_000)), "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = ns.l + [s.split(',')] %}{% endfor %}",
                Map.of("s", ",".repeat(1_000_000)), "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = ns.l + [s|list] %}{% endfor %}",
                Map.of("s", "ab".repeat(500_000)), "LimitError", MEMORY);
        fails("{% for c in s %}{% endfor %}", Map.of("s", "€".repeat(2_000_000)), "LimitError", MEMORY);
        // Objects that cost more than their list slot: numbers boxed from a range, bound methods, lazy
        // filters and macros holding on to the scope they were made in.
        fails("{% set ns = namespace(l=[]) %}{% for i in range(6000) %}{% set ns.l = ns.l + [range(100000)|list] %}{% endfor %}",
                "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(6000) %}{% set ns.l = ns.l + [range(100000)[::1]] %}{% endfor %}",
                "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = ns.l + [(['x'] * 100000)|map(attribute='upper')|list] %}"
                + "{% endfor %}", "LimitError", MEMORY);
        fails("{% set ns = namespace(v=[1]) %}{% for i in range(100000) %}{% set ns.v = ns.v|select %}{% endfor %}", "LimitError", MEMORY);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% macro m() %}{% endmacro %}{% set ns.l = ns.l + [m] %}{% endfor %}",
                Map.of(), "LimitError", STEPS_OR_MEMORY, STEP_BOMBS);
        fails("{% set ns = namespace(l=[]) %}{% for i in range(3000) %}{% set ns.l = ns.l + [d.items()|list] %}{% endfor %}",
                Map.of("d", bigDict(100_000)), "LimitError", MEMORY);
        // Accumulators are charged for what they keep, not for every copy made on the way (a quadratic total of 0.2 GB).
        assertEquals("15000 15000", renders("{% set ns = namespace(s='', l=[]) %}{% for i in range(5000) %}"
                + "{% set ns.s = ns.s ~ 'a' ~ 'b' ~ 'c' %}{% set ns.l = ns.l + [i] + [i] + [i] %}{% endfor %}{{ ns.s|length }} {{ ns.l|length }}",
                Map.of()));
    }

    @Test
    void expensiveOperationsAreChargedByTheirWork() {
        failsSteps("{% for i in range(100000) %}{{ s|length }}{% endfor %}", Map.of("s", "€".repeat(2_000_000)));
        failsSteps("{% for i in range(100000) %}{{ s == t }}{% endfor %}", Map.of("s", "€".repeat(2_000_000), "t", "€".repeat(2_000_000)));
        failsSteps("{% for i in range(100000) %}{{ 'b' in s }}{% endfor %}", Map.of("s", "a".repeat(2_000_000)));
        failsSteps("{% set l = range(100000)|list %}{% for i in range(100000) %}{{ -1 in l }}{% endfor %}");
        failsSteps("{% for i in range(100000) %}{{ d.get(-1) }}{% endfor %}", Map.of("d", bigDict(100_000)));
        failsSteps("{% set x = 7 ** 14000 %}{% for i in range(100000) %}{{ (x * x) % 10 }}{% endfor %}");
        fails("{{ (range(100000)|list * 20)|sort|length }}", Map.of(), "LimitError", STEPS_OR_MEMORY, STEP_BOMBS);
        failsSteps("{{ (range(100000)|map('string')|list * 5)|unique|list|length }}");
        failsSteps("{% for i in range(100000) %}{{ s.strip('xyz' * 100)|length }}{% endfor %}", Map.of("s", "x".repeat(1_000_000)));
        failsSteps("{% for i in range(10000) %}{{ l|map(attribute=a)|list|length }}{% endfor %}",
                Map.of("l", List.of(Map.of()), "a", "x".repeat(1_000_000)));
        failsSteps("{% for i in range(10**5) %}{% for j in range(10**5) %}{% endfor %}{% endfor %}");
    }

    @Test
    void recursionAndNestingStopWithARecursionError() {
        fails("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", "RecursionError", "recursion");
        fails("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "RecursionError", "recursion");
        fails("{% macro m() %}{{ caller() }}{% endmacro %}{% macro c() %}{% call m() %}{{ c() }}{% endcall %}{% endmacro %}{{ c() }}",
                "RecursionError", "recursion");
        for (String f : List.of("select", "map('string')", "unique", "reject", "batch(1)", "slice(1)", "selectattr('x')"))
            fails("{% set ns = namespace(v=[1]) %}{% for i in range(5000) %}{% set ns.v = ns.v|" + f + " %}{% endfor %}{{ ns.v|list }}",
                    "RecursionError", "recursion");
        String deep = "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}";
        for (String use : List.of("{{ ns.x == [ns.x] }}", "{{ ns.x }}", "{{ ns.x|tojson }}", "{{ [ns.x] < [[ns.x]] }}", "{{ ns.x in [[ns.x]] }}",
                "{{ [ns.x, ns.x]|unique|list }}", "{{ ns.x|pprint }}"))
            fails(deep + use, "RecursionError", "recursion");
        fails("{% set ns = namespace(t=()) %}{% for i in range(100000) %}{% set ns.t = (ns.t,) %}{% endfor %}{{ {ns.t: 1} }}",
                "RecursionError", "recursion");
    }

    @Test
    void deepNestingInTheSourceOrContextIsACleanError() {
        int n = 100_000;
        for (String src : List.of("{{ " + "(".repeat(n) + "1" + ")".repeat(n) + " }}", "{{ " + "[".repeat(n) + "]".repeat(n) + " }}",
                "{{ " + "{'a': ".repeat(n) + "1" + "}".repeat(n) + " }}", "{{ " + "-".repeat(n) + "1 }}", "{{ " + "not ".repeat(n) + "1 }}",
                "{% if 1 %}".repeat(n) + "{% endif %}".repeat(n), "{% for x in y %}".repeat(n) + "{% endfor %}".repeat(n),
                "{{ x" + ".a".repeat(n) + " }}", "{{ x" + "|e".repeat(n) + " }}", "{{ 1" + " ~ 1".repeat(n) + " }}")) {
            TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.compile(src));
            assertTrue(e.kind().equals("TemplateSyntaxError") || e.kind().equals("LimitError"), e.describe());
        }
        Object v = "leaf";
        for (int i = 0; i < 100_000; i++) v = new ArrayList<>(List.of(v));
        fails("{{ x }}", Map.of("x", v), "ValueError", "nested deeper");
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> cur = m;
        for (int i = 0; i < 100_000; i++) {
            Map<String, Object> next = new LinkedHashMap<>();
            cur.put("k", next);
            cur = next;
        }
        fails("{{ x }}", Map.of("x", m), "ValueError", "nested deeper");
    }

    @Test
    void hugeTemplateSourcesAndLiteralsAreRefused() {
        fails("{{ " + "1".repeat(5000) + " }}", "ValueError", "Exceeds the limit (4300 digits)");
        fails("{{ 0x" + "f".repeat(30000) + " }}", "LimitError", "too large");
        fails("{{ s|int }}{{ (7 ** 20000)|string }}", Map.of("s", "1".repeat(5000)), "ValueError", "4300 digits");
        // A million tokens are charged like values: the parser never builds an unbounded token list.
        TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.compile("{{ 1 }}".repeat(2_000_000)));
        assertEquals("LimitError", e.kind(), e.describe());
        fails("x".repeat(9_000_000), "LimitError", "output");
    }

    @Test
    void linearTimeStringOperationsGivePythonsResults() {
        Map<String, Object> ctx = Map.of("s", "ß".repeat(200_000), "i", "İ".repeat(200_000), "h", "a".repeat(2_000_000),
                "n", "a".repeat(1_000_000) + "b", "c", "<!--".repeat(500_000), "t", "<a".repeat(500_000));
        // Python: 'ß'.upper() == 'SS', 'ß'.title() == 'Ss', 'İ'.lower() == 'i̇' (two characters).
        // ... and the rest lowercased, which leaves ß alone: title and capitalize give "Ss" + 199,999 'ß'.
        assertEquals("400000 200001 200001 200001 400000 400000 400000 400000",
                renders("{{ (s|upper)|length }} {{ (s|title)|length }} {{ s.title()|length }} {{ (s|capitalize)|length }} {{ s.swapcase()|length }}"
                        + " {{ s.casefold()|length }} {{ (i|lower)|length }} {{ s.upper().lower()|length }}", ctx));
        assertEquals("-1 -1 False 1 2000000 0 1000000 2 2000000", renders("{{ h.find(n) }} {{ h.rfind(n) }} {{ n[1:] in h }} {{ h.split(n)|length }}"
                + " {{ h.replace(n, '')|length }} {{ h.count(n) }} {{ (h ~ 'b').find(n) }} {{ (n ~ n).split(n)|length - 1 }} {{ h[::-1]|length }}", ctx));
        assertEquals(2_000_000, renders("{{ c|striptags }}", ctx).length());
        // No work proportional to a precision or a field chain beyond what the result holds.
        assertEquals("2.5 0.0 7000002 [1]", renders("{{ 2.5|round(10**9) }} {{ (h ~ 'x')|float }} {{ ('%.7000000f'|format(0.1))|length }}"
                + "{% set ns = namespace(x=[1]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}"
                + " {{ ('{0' ~ '[0]' * 100000 ~ '}').format(ns.x) }}", ctx));
        assertEquals(1_000_000, renders("{{ t|striptags }}", ctx).length());
    }

    @Test
    void realTemplatesRenderLongConversationsUnderTheDefaultLimits() throws Exception {
        Path dir = Fixtures.chatTemplates();
        assertTrue(Files.isDirectory(dir), "fixtures not found at " + dir + " (a missing fixture fails, it does not skip)");
        List<Object> tools = new ObjectMapper().readValue(dir.resolve("tools.json").toFile(), List.class);
        // 200 turns of 5 KB: a 1 MB conversation (about 250k tokens), far longer than the reference ones.
        List<Object> messages = new ArrayList<>();
        messages.add(Map.of("role", "system", "content", "You are helpful. ".repeat(50)));
        Random r = new Random(1);
        for (int i = 0; i < 200; i++) {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < 5000) sb.append("word").append(r.nextInt(1000)).append(r.nextInt(20) == 0 ? ".\n" : " ");
            messages.add(Map.of("role", i % 2 == 0 ? "user" : "assistant", "content", sb.toString()));
        }
        Map<String, Object> ctx = Map.of("messages", messages, "add_generation_prompt", true, "bos_token", "<s>", "eos_token", "</s>",
                "tools", tools);
        List<String> failures = new ArrayList<>();
        int rendered = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".jinja")).sorted().toList()) {
                try {
                    String out = ChatTemplate.compile(Files.readString(p)).render(ctx, NOW);
                    assertTrue(out.length() > 1_000_000, p + ": " + out.length());
                    rendered++;
                } catch (TemplateException e) {
                    if (e.kind().equals("LimitError") || e.kind().equals("RecursionError") || e.kind().equals("InternalError"))
                        failures.add(p.getFileName() + ": " + e.describe());
                }
            }
        }
        System.out.println("[template-limits] " + rendered + " real templates rendered a 1 MB conversation under the default limits");
        assertEquals(List.of(), failures);
        assertTrue(rendered >= 40, "rendered " + rendered);
    }

    private static Map<String, Object> bigDict(int n) {
        Map<String, Object> d = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) d.put("k" + i, i);
        return d;
    }
}
