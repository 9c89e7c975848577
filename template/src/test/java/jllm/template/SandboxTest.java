package jllm.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hostile templates end with a clear TemplateException, quickly, without exhausting the stack or heap. */
class SandboxTest {
    private static TemplateException fails(String source) {
        return fails(source, Map.of());
    }

    private static TemplateException fails(String source, Map<String, Object> ctx) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(TemplateException.class, () -> ChatTemplate.compile(source).render(ctx)));
    }

    @Test
    void hugeLoopHitsTheStepLimit() {
        TemplateException e = fails("{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}");
        assertEquals("LimitError", e.kind());
        assertTrue(e.getMessage().contains("step limit"), e.getMessage());
    }

    @Test
    void rangeIsCappedLikeTheSandbox() {
        assertEquals("OverflowError", fails("{% for i in range(10 ** 12) %}{% endfor %}").kind());
    }

    @Test
    void infiniteMacroRecursionIsStopped() {
        TemplateException e = fails("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}");
        assertEquals("RecursionError", e.kind());
        assertTrue(e.getMessage().contains("recursion"), e.getMessage());
    }

    @Test
    void infiniteRecursiveLoopIsStopped() {
        assertEquals("RecursionError", fails("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}").kind());
    }

    @Test
    void hugeOutputIsStopped() {
        TemplateException e = fails("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}");
        assertEquals("LimitError", e.kind());
        assertTrue(e.getMessage().contains("output"), e.getMessage());
    }

    @Test
    void hugeStringsAreStoppedBeforeAllocation() {
        assertEquals("LimitError", fails("{{ 'x' * 10 ** 12 }}").kind());
        assertEquals("LimitError", fails("{{ [0] * 10 ** 10 }}").kind());
        assertEquals("LimitError", fails("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}").kind());
        assertEquals("LimitError", fails("{{ 'x'|center(10 ** 12) }}").kind());
        assertEquals("LimitError", fails("{{ 10 ** 1000000 }}").kind());
    }

    @Test
    void deeplyNestedSourceIsASyntaxErrorNotAStackOverflow() {
        int n = 100_000;
        for (String src : List.of("{{ " + "(".repeat(n) + "1" + ")".repeat(n) + " }}", "{{ " + "[".repeat(n) + "]".repeat(n) + " }}",
                "{{ " + "-".repeat(n) + "1 }}", "{{ " + "not ".repeat(n) + "1 }}", "{% if 1 %}".repeat(n) + "{% endif %}".repeat(n),
                "{{ x" + ".a".repeat(n) + " }}", "{{ 1" + " + 1".repeat(n) + " }}")) {
            TemplateException e = assertThrows(TemplateException.class, () -> ChatTemplate.compile(src));
            assertTrue(e.kind().equals("TemplateSyntaxError") || e.kind().equals("LimitError"), e.describe());
        }
    }

    @Test
    void deeplyNestedContextIsRejectedCleanly() {
        Object v = "leaf";
        for (int i = 0; i < 100_000; i++) {
            List<Object> l = new ArrayList<>();
            l.add(v);
            v = l;
        }
        Object deep = v;
        TemplateException e = fails("{{ x|tojson }}", Map.of("x", deep));
        assertTrue(e.kind().equals("ValueError") || e.kind().equals("RecursionError") || e.kind().equals("LimitError"), e.describe());
    }

    @Test
    void noReflectionOrMutation() {
        assertEquals("SecurityError", fails("{{ ''.__class__.__mro__ }}").kind());
        assertEquals("SecurityError", fails("{{ ().__class__.__base__.__subclasses__() }}").kind());
        assertEquals("SecurityError", fails("{% set l = [] %}{{ l.append(1) }}").kind());
        assertEquals("SecurityError", fails("{% set d = {} %}{{ d.pop('a') }}").kind());
        assertEquals("", ChatTemplate.compile("{{ ''.__class__ }}").render(Map.of()));
        assertEquals("TemplateSyntaxError", fails("{% include 'x.jinja' %}").kind());
        assertEquals("TemplateSyntaxError", fails("{% import 'x.jinja' as x %}").kind());
    }

    @Test
    void limitsAreConfigurable() {
        Limits tiny = new Limits(1_000, 100, 50, 3, 20);
        assertEquals("LimitError", assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{% for i in range(2000) %}{% endfor %}", tiny).render(Map.of())).kind());
        assertEquals("LimitError", assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{{ 'x' * 101 }}", tiny).render(Map.of())).kind());
        assertEquals("RecursionError", assertThrows(TemplateException.class,
                () -> ChatTemplate.compile("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(5) }}", tiny).render(Map.of())).kind());
        assertEquals("ok", ChatTemplate.compile("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{% else %}ok{% endif %}{% endmacro %}{{ m(2) }}", tiny).render(Map.of()));
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        TemplateException e = fails("{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}");
        assertEquals("TemplateError", e.kind());
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }
}
