package jllm.template;

/**
 * What one render has spent of its {@link Limits}: steps (time), bytes allocated (memory), characters
 * written (output) and evaluation depth (the Java stack). Every operation charges its cost here
 * <em>before</em> it allocates or loops, so exceeding a limit is a {@link TemplateException} of kind
 * {@code LimitError} (or {@code RecursionError}), never an OutOfMemoryError, a StackOverflowError or
 * a render that runs for minutes.
 *
 * <h2>Cost model</h2>
 * <ul>
 *   <li>Time: one step per expression, statement and loop iteration; bulk work costs one step per 64
 *       characters read or copied and one per 16 list elements or dict entries visited, so every step
 *       stands for a bounded amount of work whatever the sizes involved.</li>
 *   <li>Memory: the bytes of every value the render builds, counted when it is built and never given
 *       back (a running total, so no pattern of building and dropping values gets around it): 2 per
 *       character of a string (a Java string holds 1 or 2 bytes per character) plus a 40-byte header,
 *       8 per list slot, 48 per dict entry, 56 per one-character string made by iterating a string, and
 *       the digits of big integers. Output and captured blocks ({@code set} blocks, macro bodies) count
 *       as the strings they are. Values from the caller's context are not counted: they exist already.</li>
 *   <li>Size: no single string or list longer than {@link Limits#maxStringChars()} is ever built.</li>
 *   <li>Depth: nested evaluation (expressions, blocks, macro calls, nested lazy filters, comparisons and
 *       printing of nested values) stops at {@link #MAX_DEPTH} levels, well inside the stack of the thread
 *       renders run on.</li>
 * </ul>
 *
 * <p>The budget of the render in progress is bound to the thread with a {@link ScopedValue}, so the
 * Python helpers ({@code Py}, {@code Strs}) charge the same budget as the interpreter without threading it
 * through every call. Outside a render (parsing) a fresh budget with the default limits applies.
 */
final class Budget {
    /**
     * Levels of nested evaluation. Python stops at about 1000 frames; real chat templates nest a few dozen
     * levels. Renders run on a thread whose stack holds this many levels with a wide margin (ChatTemplate).
     */
    static final int MAX_DEPTH = 1200;

    static final ScopedValue<Budget> CURRENT = ScopedValue.newInstance();

    private static final long STRING_HEADER = 40, LIST_HEADER = 32, DICT_HEADER = 64;
    static final long CHAR_STRING = 56, LIST_SLOT = 8, DICT_ENTRY = 48;

    final Limits limits;
    private long steps;
    private long bytes;
    private long written;
    private int depth;

    Budget(Limits limits) {
        this.limits = limits;
    }

    /** The budget of the render running on this thread; outside a render, a fresh one with the default limits. */
    static Budget current() {
        return CURRENT.isBound() ? CURRENT.get() : new Budget(Limits.DEFAULT);
    }

    static TemplateException limit(String msg) {
        return new TemplateException("LimitError", msg);
    }

    // ---- time ----------------------------------------------------------------------------------

    void step() {
        if (++steps > limits.maxSteps()) throw tooManySteps();
    }

    void step(long n) {
        steps += n;
        if (steps > limits.maxSteps() || n < 0) throw tooManySteps();
    }

    private TemplateException tooManySteps() {
        return limit("template exceeded its step limit of " + String.format("%,d", limits.maxSteps())
                + " steps (too much work: an endless or very long loop, or operations on huge values)");
    }

    /** Reading or comparing {@code chars} characters without building anything. */
    void scan(long chars) {
        if (chars >= 32) step(chars >>> 5);
    }

    /** Visiting {@code n} list elements or dict entries without building anything. */
    void visit(long n) {
        if (n >= 16) step(n >>> 4);
    }

    // ---- memory --------------------------------------------------------------------------------

    /** Charges {@code n} bytes about to be allocated. */
    void alloc(long n) {
        bytes += n;
        if (bytes > limits.maxMemoryBytes() || n < 0)
            throw limit("template exceeded its memory budget of " + mib(limits.maxMemoryBytes()) + " MiB");
    }

    /** A single string or list of {@code n} characters or items: refused past the size limit, before it is built. */
    void size(long n) {
        if (n > limits.maxStringChars() || n < 0)
            throw limit("a value of " + (n < 0 ? "more than 2^63" : String.format("%,d", n)) + " characters or items exceeds the limit of "
                    + String.format("%,d", limits.maxStringChars()) + " for one string or list");
    }

    /** A new string of {@code chars} characters. */
    void string(long chars) {
        size(chars);
        alloc(STRING_HEADER + 2 * chars);
        scan(chars);
    }

    /** A new list or tuple of {@code n} items. */
    void list(long n) {
        size(n);
        alloc(LIST_HEADER + LIST_SLOT * n);
        visit(n);
    }

    /** A new dict (or copy) of {@code n} entries. */
    void dict(long n) {
        size(n);
        alloc(DICT_HEADER + DICT_ENTRY * n);
        visit(n);
    }

    /** {@code n} characters appended to a growing string buffer (charged as they come). */
    void chars(long n) {
        alloc(2 * n);
        scan(n);
    }

    // ---- output --------------------------------------------------------------------------------

    /** {@code n} characters written to the output or a capture; the total over the render is capped. */
    void write(long n) {
        written += n;
        if (written > limits.maxOutputChars())
            throw limit("template output exceeds the limit of " + String.format("%,d", limits.maxOutputChars()) + " characters");
        chars(n);
    }

    // ---- depth ---------------------------------------------------------------------------------

    void enter() {
        if (++depth > MAX_DEPTH) {
            depth--;
            throw new TemplateException("RecursionError", "maximum recursion depth exceeded (templates and values may nest at most "
                    + MAX_DEPTH + " levels)");
        }
    }

    void leave() {
        depth--;
    }

    // ---- reporting -----------------------------------------------------------------------------

    long steps() {
        return steps;
    }

    long bytes() {
        return bytes;
    }

    static long mib(long bytes) {
        return bytes >> 20;
    }

    /** {@code a * b} saturating at Long.MAX_VALUE, for sizes computed from untrusted numbers. */
    static long mul(long a, long b) {
        if (a <= 0 || b <= 0) return 0;
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }
}
