package jllm.template;

import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Hugging Face chat template, rendered the way transformers renders it (jinja2's
 * ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls; tojson with
 * ensure_ascii=False; raise_exception; strftime_now). Compile once, render many times; a compiled
 * template is immutable and may be shared across threads.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.compile(source);
 * String prompt = t.render(Map.of("messages", messages, "add_generation_prompt", true,
 *         "bos_token", "<s>", "eos_token", "</s>"));
 * }</pre>
 */
public final class ChatTemplate {
    /** Context key holding an ISO-8601 local date-time that {@code strftime_now} uses instead of the clock. */
    public static final String NOW_KEY = "now";

    private final List<Node.Stmt> body;
    private final Limits limits;

    private ChatTemplate(List<Node.Stmt> body, Limits limits) {
        this.body = body;
        this.limits = limits;
    }

    /** Parses a template with the default {@link Limits}; throws {@link TemplateException} on syntax errors. */
    public static ChatTemplate compile(String source) {
        return compile(source, Limits.DEFAULT);
    }

    public static ChatTemplate compile(String source, Limits limits) {
        try {
            return new ChatTemplate(Parser.parse(source, limits), limits);
        } catch (StackOverflowError e) {
            throw new TemplateException("LimitError", "template nesting too deep");
        }
    }

    /**
     * Renders with the given variables: plain Java values (String, Number, Boolean, null, List, Map) as
     * Jackson produces them. A {@value #NOW_KEY} entry, if present, is taken out of the variables and
     * fixes the time {@code strftime_now} sees.
     */
    public String render(Map<String, ?> context) {
        Map<String, Object> vars = new LinkedHashMap<>(context);
        LocalDateTime now = LocalDateTime.now();
        Object fixed = vars.remove(NOW_KEY);
        if (fixed != null) {
            try {
                now = LocalDateTime.parse(fixed.toString());
            } catch (DateTimeParseException e) {
                throw new TemplateException("ValueError", "'now' must be an ISO-8601 local date-time such as 2026-01-15T12:00:00, got: " + fixed);
            }
        }
        return render(vars, now);
    }

    /** Renders with {@code strftime_now} seeing {@code now}; the variables are used as given. */
    public String render(Map<String, ?> variables, LocalDateTime now) {
        @SuppressWarnings("unchecked") Map<String, Object> vars = (Map<String, Object>) variables;
        try {
            return new Interpreter(limits, now).render(body, vars);
        } catch (StackOverflowError e) {
            throw new TemplateException("LimitError", "template recursion too deep for the thread's stack");
        }
    }
}
