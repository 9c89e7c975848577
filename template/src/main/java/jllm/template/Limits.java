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
     * Far above what real chat templates need and far below what hurts: the 51 real templates of the
     * fixtures render their reference conversations in under 40k steps and 1 MiB, and a 500-turn
     * conversation of 1 MB in a few MiB; a hostile template stops within about a second and 64 MiB.
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
