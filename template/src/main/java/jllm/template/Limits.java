package jllm.template;

/**
 * Resource caps for rendering untrusted templates and contexts (a template inside a downloaded GGUF, a
 * hostile tool schema). Exceeding one throws a {@link TemplateException} of kind {@code LimitError}
 * (recursion: {@code RecursionError}); how each operation is charged is described in {@link Budget}.
 * docs/template-sandbox.md explains the choices.
 *
 * @param maxSteps        evaluation steps for one render: expressions, statements, loop iterations, and
 *                        bulk work (one step per 32 characters or 4 elements an operation touches)
 * @param maxOutputChars  characters written by one render, nested captures (macros, set blocks)
 *                        included
 * @param maxStringChars  length of any single string or list built while rendering
 * @param maxCallDepth    nesting of macro calls and recursive loops
 * @param maxNesting      nesting of blocks and expressions accepted by the parser
 * @param maxMemoryBytes  bytes of values one render may build, counted as they are built
 */
public record Limits(long maxSteps, long maxOutputChars, int maxStringChars, int maxCallDepth, int maxNesting, long maxMemoryBytes) {
    public Limits {
        if (maxSteps <= 0 || maxOutputChars <= 0 || maxStringChars <= 0 || maxCallDepth <= 0 || maxNesting <= 0 || maxMemoryBytes <= 0)
            throw new IllegalArgumentException("template limits must be positive");
    }

    /** The given caps with the default memory budget. */
    public Limits(long maxSteps, long maxOutputChars, int maxStringChars, int maxCallDepth, int maxNesting) {
        this(maxSteps, maxOutputChars, maxStringChars, maxCallDepth, maxNesting, DEFAULT_MEMORY);
    }

    private static final long DEFAULT_MEMORY = 64L << 20;

    /**
     * Far above what real chat templates need and far below what hurts (docs/template-sandbox.md has the
     * measurements): the 51 real templates of the fixtures render their reference conversations in under
     * 2,400 steps and 0.2 MiB, a 1 MB conversation (200 turns, about 250k tokens) in under 330k steps and
     * 10 MiB, and a 5 MB one in under 7.5M steps and 48 MiB; a hostile template stops after a couple of
     * seconds of work (20M steps) and 64 MiB. 8M characters of output is about 2M tokens, more context
     * than any model this project runs.
     */
    public static final Limits DEFAULT = new Limits(20_000_000L, 8_000_000L, 8_000_000, 100, 256, DEFAULT_MEMORY);

    /** These limits with another step limit. */
    public Limits withMaxSteps(long steps) {
        return new Limits(steps, maxOutputChars, maxStringChars, maxCallDepth, maxNesting, maxMemoryBytes);
    }

    /** These limits with another memory budget. */
    public Limits withMaxMemoryBytes(long bytes) {
        return new Limits(maxSteps, maxOutputChars, maxStringChars, maxCallDepth, maxNesting, bytes);
    }
}
