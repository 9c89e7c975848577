package jllm.template;

import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

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
        return new ChatTemplate(sandboxed(limits, () -> Parser.parse(source, limits)), limits);
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
        return sandboxed(limits, () -> new Interpreter(Budget.CURRENT.get(), now).render(body, vars));
    }

    /**
     * Stack of the thread that parses and renders. Evaluation nests at most {@link Budget#MAX_DEPTH}
     * levels; the heaviest level measured (a chain of lazy filters, interpreted) takes under 2 KiB, so
     * the deepest render needs under 3 MiB. A thread of our own gives that a known stack whatever thread
     * the caller is on (a default thread has 1 MiB), and keeps a hostile template off the caller's
     * stack. The stack is reserved address space; only the pages a render touches are committed.
     */
    private static final long STACK_BYTES = 32L << 20;

    /**
     * Runs {@code work} with a fresh {@link Budget} on a thread of its own and turns every failure into
     * a {@link TemplateException}: the template's own errors as they are, an exhausted stack as a
     * RecursionError, and anything else (a bug of the engine) as an InternalError with a message.
     */
    private static <T> T sandboxed(Limits limits, Callable<T> work) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread worker = Thread.ofPlatform().name("jllm-template").daemon().stackSize(STACK_BYTES).unstarted(() -> {
            try {
                result[0] = ScopedValue.where(Budget.CURRENT, new Budget(limits)).call(work::call);
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        worker.start();
        boolean interrupted = false;
        while (true) {
            try {
                worker.join();
                break;
            } catch (InterruptedException e) {
                // The render is bounded by its step limit: let it finish, and pass the interrupt on.
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable e = failure[0];
        if (e == null) {
            @SuppressWarnings("unchecked") T t = (T) result[0];
            return t;
        }
        if (e instanceof TemplateException te) throw te;
        if (e instanceof StackOverflowError) throw new TemplateException("RecursionError", "template nesting too deep for the stack");
        // The budget keeps a render's values within maxMemoryBytes; a heap smaller than that can still run
        // out. The render's garbage went with its thread, so this is reported like any other failure.
        if (e instanceof OutOfMemoryError) throw new TemplateException("MemoryError", "out of memory while rendering the template: the Java heap ("
                + (Runtime.getRuntime().maxMemory() >> 20) + " MiB) is too small for its memory budget of " + (limits.maxMemoryBytes() >> 20) + " MiB");
        if (e instanceof Error err) throw err;
        StackTraceElement[] at = e.getStackTrace();
        throw new TemplateException("InternalError", "internal error of the template engine: " + e + (at.length > 0 ? " at " + at[0] : ""));
    }
}
