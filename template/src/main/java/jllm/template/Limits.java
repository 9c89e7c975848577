package jllm.template;

/**
 * Resource caps for rendering untrusted templates. Exceeding one throws a {@link TemplateException}
 * of kind {@code LimitError}; the defaults are far above what real chat templates need (the largest
 * known ones render in well under 100k steps) but keep a hostile template to a fraction of a second
 * and a few tens of MB.
 *
 * @param maxSteps        evaluation steps (expressions, statements, loop iterations, elements
 *                        touched by filters) for one render
 * @param maxOutputChars  characters written by one render, nested captures (macros, set blocks)
 *                        included
 * @param maxStringChars  length of any single string or list built while rendering
 * @param maxCallDepth    nesting of macro calls and recursive loops
 * @param maxNesting      nesting of blocks and expressions accepted by the parser
 */
public record Limits(long maxSteps, long maxOutputChars, int maxStringChars, int maxCallDepth, int maxNesting) {
    public static final Limits DEFAULT = new Limits(20_000_000L, 20_000_000L, 10_000_000, 100, 100);
}
