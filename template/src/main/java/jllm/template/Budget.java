package jllm.template;

/**
 * What one render has spent of its {@link Limits}: steps (time), bytes of values built (memory),
 * characters written (output) and evaluation depth (the stack). Every operation charges its cost here
 * <em>before</em> it allocates or loops, so exceeding a limit is a {@link TemplateException} of kind
 * {@code LimitError} (or {@code RecursionError}), never an OutOfMemoryError, a StackOverflowError or a
 * render that runs for minutes.
 *
 * <h2>Cost model</h2>
 * <ul>
 *   <li>Time: one step per expression, statement and loop iteration; bulk work costs one step per 32
 *       characters read, compared or converted one by one, per 1024 characters copied in bulk, per 4 list
 *       elements or dict entries compared or visited, per 32 list slots or 16 dict entries copied, so every step stands for a bounded amount of work
 *       whatever the sizes involved.</li>
 *   <li>Memory: the bytes of every value the render builds, counted when it is built: 2 per character of
 *       a string (a Java string holds 1 or 2 bytes per character) plus a 40-byte header, 8 per list slot,
 *       48 per dict entry or (key, value) tuple, 56 per one-character string made by iterating a string,
 *       and the words of big integers. Output and captured blocks ({@code set} blocks, macro bodies)
 *       count as the strings they are. Bytes are given back only where the value is provably garbage:
 *       an output buffer once its text is taken, the partial results of a concatenation chain, and the
 *       old value of {@code ns.x} in {@code {% set ns.x = ns.x ~ ... %}} when nothing else can hold it.
 *       So the count is an upper bound of what the render keeps alive, and no pattern of building and
 *       dropping values gets around it. Values from the caller's context are not counted: they exist
 *       already.</li>
 *   <li>Size: no single string or list longer than {@link Limits#maxStringChars()} is ever built.</li>
 *   <li>Depth: nested evaluation (expressions, blocks, macro calls, nested lazy filters, comparisons and
 *       printing of nested values) stops at {@link #MAX_DEPTH} levels, well inside the stack of the thread
 *       renders run on.</li>
 * </ul>
 *
 * <p>The budget of the render in progress is bound to the thread with a {@link ScopedValue}, so the
 * Python helpers ({@code Py}, {@code Strs}) charge the same budget as the interpreter without threading it
 * through every call. Outside a render a fresh budget with the default limits applies.
 */
final class Budget {
    /**
     * Levels of nested evaluation. Python stops at about 1000 frames; real chat templates nest a few dozen
     * levels. Renders run on a thread whose stack holds this many levels with a wide margin (ChatTemplate).
     */
    static final int MAX_DEPTH = 1200;

    static final ScopedValue<Budget> CURRENT = ScopedValue.newInstance();

    private static final long STRING_HEADER = 40, LIST_HEADER = 32, DICT_HEADER = 64;
    static final long CHAR_STRING = 56, LIST_SLOT = 8, DICT_ENTRY = 48, TUPLE_PAIR = 48, BOXED = 16;
    /** What a closure keeps besides itself: its scope's map and entries, a loop object, argument lists. */
    static final long MACRO = 512, LAZY_FILTER = 1024, LOOP = 256;

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

    /** Reading, comparing or converting {@code chars} characters one by one. */
    void scan(long chars) {
        if (chars >= 32) step(chars >>> 5);
    }

    /** Visiting {@code n} list elements or dict entries without building anything. */
    void visit(long n) {
        if (n >= 4) step(n >>> 2);
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
        copy(chars);
    }

    /** Copying {@code chars} characters in bulk (a memory copy: far cheaper per character than a scan). */
    void copy(long chars) {
        if (chars >= 1024) step(chars >>> 10);
    }

    /** A new list or tuple of {@code n} items (copied in bulk; work done per item is charged where it is done). */
    void list(long n) {
        size(n);
        alloc(LIST_HEADER + LIST_SLOT * n);
        if (n >= 32) step(n >>> 5);
    }

    /** A new list of {@code n} (key, value) tuples. */
    void pairs(long n) {
        list(n);
        alloc(TUPLE_PAIR * n);
    }

    /** {@code n} new (possibly empty) lists or tuples, beyond the slots of their items. */
    void lists(long n) {
        alloc(LIST_HEADER * n);
        visit(n);
    }

    /**
     * A copy of the items of {@code source}: the list itself, plus the numbers a {@code range} boxes as
     * it is read (a range holds no elements; a copy of it holds a Long for each).
     */
    void copyOf(java.util.List<?> source) {
        list(source.size());
        if (source instanceof Values.Range) alloc(BOXED * (long) source.size());
    }

    /**
     * An object that holds on to the scope it was made in (a macro, a lazy filter's pending work, a loop):
     * kept in a list, each would keep that scope and its variables alive, so each is charged for them.
     */
    void closure(long bytes) {
        alloc(bytes);
    }

    /** A new dict (or copy) of {@code n} entries: each entry is hashed and linked. */
    void dict(long n) {
        size(n);
        alloc(DICT_HEADER + DICT_ENTRY * n);
        if (n >= 16) step(n >>> 4);
    }

    /** {@code n} characters appended to a growing string buffer (charged as they come). */
    void chars(long n) {
        alloc(2 * n);
        copy(n);
    }

    /** Gives back the charge of a value that is provably garbage (never below zero). */
    void free(long n) {
        bytes = Math.max(0, bytes - n);
    }

    /** What building {@code v} was charged, for the values that are given back: strings and lists. */
    static long chargeOf(Object v) {
        if (v instanceof Values.Markup m) v = m.s();
        if (v instanceof String s) return STRING_HEADER + 2L * s.length();
        if (v instanceof java.util.List<?> l && !(v instanceof Values.Range)) return LIST_HEADER + LIST_SLOT * l.size();
        return 0;
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
