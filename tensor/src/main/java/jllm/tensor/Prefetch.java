package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Software prefetch of panel bytes {@link #AHEAD} bytes ahead of a decode kernel (and of F16/BF16 rows,
 * {@link #ROW_AHEAD}), for cores whose hardware
 * prefetchers run too short a way ahead of a stream that is also computed on ({@link
 * CpuInfo#serialReads}). Java has no prefetch instruction (Unsafe's went in JDK 9), and plain loads
 * ahead do not serve: a load that misses holds its place in the out-of-order window until its line
 * arrives, a prefetch retires at once. So this is the one piece of jllm that is machine code: 56
 * bytes of x86-64, {@code prefetcht0} over a run of cache lines in four streams, written into a page
 * at class load that is then made read-only and executable, and called as a critical downcall (no
 * thread-state change; heap arrays are passed pinned; a prefetch of an unmapped address does not
 * fault).
 * On any other platform, or where the page cannot be made executable, {@link #ON} is false and the
 * kernels run as before.
 *
 * <p>Why it pays, measured in C first (tools/c-reference/q5k-kernel.c, Q5_K's one-panel kernel,
 * [8192, 2048] x 40 from memory, two threads, Intel Xeon family 6 model 207): 16.5-20.7 Gw/s without
 * prefetch, 27.4-32.8 with 12 lines per sub-block 2 KiB ahead, 25.4-31.5 with a whole block (90 lines)
 * one or two blocks ahead: the same kernel, in cache 43 Gw/s per core, is held to jllm's own figure
 * from memory by the reads alone. docs/quantization-and-speed.md, thirty-third round.
 */
final class Prefetch {
    private Prefetch() { }

    /** Cache line bytes assumed by the callers' line counts. */
    static final int LINE = 64;

    /**
     * {@code void f(void* p, long o0, long o1, long o2, long o3, long lines)}: {@code prefetcht0} at
     * {@code p + o0 .. p + o3}, then every 64 bytes in each, {@code lines} times (none if {@code lines
     * <= 0}). One call for a four-panel kernel's four streams.
     */
    private static final byte[] CODE4 = {
        0x4D, (byte) 0x85, (byte) 0xC9,            // test r9, r9
        0x7E, 0x32,                                // jle end
        0x48, (byte) 0x8D, 0x34, 0x37,             // lea rsi, [rdi + rsi]
        0x48, (byte) 0x8D, 0x14, 0x17,             // lea rdx, [rdi + rdx]
        0x48, (byte) 0x8D, 0x0C, 0x0F,             // lea rcx, [rdi + rcx]
        0x4E, (byte) 0x8D, 0x04, 0x07,             // lea r8, [rdi + r8]
        0x0F, 0x18, 0x0E,                          // loop: prefetcht0 [rsi]
        0x0F, 0x18, 0x0A,                          // prefetcht0 [rdx]
        0x0F, 0x18, 0x09,                          // prefetcht0 [rcx]
        0x41, 0x0F, 0x18, 0x08,                    // prefetcht0 [r8]
        0x48, (byte) 0x83, (byte) 0xC6, 0x40,      // add rsi, 64
        0x48, (byte) 0x83, (byte) 0xC2, 0x40,      // add rdx, 64
        0x48, (byte) 0x83, (byte) 0xC1, 0x40,      // add rcx, 64
        0x49, (byte) 0x83, (byte) 0xC0, 0x40,      // add r8, 64
        0x49, (byte) 0xFF, (byte) 0xC9,            // dec r9
        0x75, (byte) 0xDE,                         // jnz loop
        (byte) 0xC3                                // end: ret
    };

    private static final MethodHandle LINES4;

    /** Whether {@link #fourAhead} issues prefetches ({@code -Djllm.prefetch=on|off}, default on where available). */
    static final boolean ON;

    static {
        MethodHandle h = null;
        String arch = System.getProperty("os.arch", ""), os = System.getProperty("os.name", "");
        if (!"off".equals(System.getProperty("jllm.prefetch", "on")) && os.startsWith("Linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            try {
                h = build();
            } catch (Throwable t) {
                h = null; // no native access or no executable page: no prefetch
            }
        }
        LINES4 = h;
        ON = h != null;
        KERNELS = ON && CpuInfo.serialReads() && Panels.S.length() >= 16;
    }

    /**
     * Whether the decode kernels prefetch: where the stub is built and a core reads and computes in
     * series ({@link CpuInfo#serialReads}), with vectors of 256 bits or more. One flag for every
     * kernel that calls this class. At 128 bits ({@code -XX:MaxVectorSize=16} on the Intel Xeon,
     * family 6 model 207) the kernels are bound by their arithmetic and the calls only cost:
     * {@code bench kernels --threads 2}, seven runs each way, q4_k 46-68% of the read bandwidth with
     * them against 64-82% without, q5_k 30-45% against 41-51%, f16 45-54% against 39-58%.
     */
    static final boolean KERNELS;

    private static MethodHandle build() throws Throwable {
        Linker l = Linker.nativeLinker();
        var lib = l.defaultLookup();
        var A = ValueLayout.ADDRESS;
        var J = ValueLayout.JAVA_LONG;
        var N = ValueLayout.JAVA_INT;
        MethodHandle mmap = l.downcallHandle(lib.find("mmap").orElseThrow(), FunctionDescriptor.of(A, A, J, N, N, N, J));
        MethodHandle mprotect = l.downcallHandle(lib.find("mprotect").orElseThrow(), FunctionDescriptor.of(N, A, J, N));
        final int protRead = 1, protWrite = 2, protExec = 4, mapPrivate = 2, mapAnonymous = 0x20;
        long page = 4096;
        MemorySegment at = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, page, protRead | protWrite, mapPrivate | mapAnonymous, -1, 0L);
        if (at.address() == -1L || at.address() == 0L) throw new IllegalStateException("mmap failed");
        // written while writable, then read-only and executable (never both writable and executable)
        MemorySegment code = at.reinterpret(page, Arena.global(), null);
        MemorySegment.copy(CODE4, 0, code, ValueLayout.JAVA_BYTE, 0, CODE4.length);
        if ((int) mprotect.invokeExact(code, page, protRead | protExec) != 0) throw new IllegalStateException("mprotect failed");
        MethodHandle f4 = l.downcallHandle(code, FunctionDescriptor.ofVoid(A, J, J, J, J, J), Linker.Option.critical(true));
        // first calls on a native buffer and on a heap array: a broken page fails here, at class load
        try (Arena a = Arena.ofConfined()) {
            f4.invokeExact(a.allocate(1024), 0L, 256L, 512L, 768L, 4L);
        }
        f4.invokeExact(MemorySegment.ofArray(new byte[1024]), 0L, 256L, 512L, 768L, 4L);
        return f4;
    }

    /**
     * How far ahead of a kernel's reads: Q5_K's four-panel kernel, [8192, 2048] from memory, two
     * threads, share of the read bandwidth of the same minutes, two runs each: none 49, 49%; 720 bytes
     * ahead per panel 65, 71%; 1440 bytes 65, 68, 65, 67%; 2880 bytes 62, 65%; 5760 (a block) 59, 63%;
     * 11520 bytes 55, 58% (Intel Xeon, thirty-third round).
     */
    static final int AHEAD = 1536;

    /**
     * For a four-panel kernel about to read {@code bytes} bytes from position {@code pos} of each of
     * its panels (at {@code o0 .. o3} in {@code base}, each {@code end} bytes long): prefetches the
     * bytes {@link #AHEAD} further on in each, where they are still inside the panel. One downcall for
     * the four: with one per panel (a one-stream stub, dropped), Q4_K's kernel lost 10-30% in L2 (its eight accumulators spilled
     * around each call) and gained nothing clear from memory; with one, 78-79% of the bandwidth
     * against 59-72% (thirty-third round).
     */
    static void fourAhead(MemorySegment base, int o0, int o1, int o2, int o3, int pos, int bytes, int end) {
        if (!ON) return;
        int at = pos + AHEAD, n = Math.min(bytes, end - at);
        if (n <= 0) return;
        four(base, (long) o0 + at, (long) o1 + at, (long) o2 + at, (long) o3 + at, (n + LINE - 1) / LINE);
    }

    /**
     * {@code lines} cache lines from each of {@code base + o0 .. base + o3}. The offsets need not lie
     * inside {@code base}: a prefetch past a mapping's end does not fault, and the kernels that run past
     * a row's end (F16's) prefetch the start of the row they read next.
     */
    static void four(MemorySegment base, long o0, long o1, long o2, long o3, long lines) {
        if (!ON) return;
        try {
            LINES4.invokeExact(base, o0, o1, o2, o3, lines);
        } catch (Throwable t) {
            throw new AssertionError(t); // the handle takes no exceptions from native code
        }
    }

    /**
     * For the 16-bit formats' four-row decode streams (F16Tensor, SegmentTensor): every {@link
     * #ROW_EVERY} columns each row prefetches its next {@code 2 ROW_EVERY} bytes {@link #ROW_AHEAD}
     * bytes on. F16 [8192, 2048] from memory, two threads, share of the read bandwidth of the same
     * minutes, three runs each: none 50, 69, 73%; 1536 bytes ahead every 256 columns 79, 83, 84%; 3072
     * every 256 78, 81, 82%; 1536 every 128 79, 80, 89%; 3072 every 128 82, 84, 85% (Intel Xeon,
     * thirty-fourth round).
     */
    static final int ROW_AHEAD = 3072, ROW_EVERY = 128;

    /**
     * For a four-row stream at {@code o}, {@code o + stride}, ... of {@code base}: the next {@code 2
     * ROW_EVERY} bytes of each row, {@link #ROW_AHEAD} bytes on.
     */
    static void rowsAhead(MemorySegment base, long o, long stride) {
        long at = o + ROW_AHEAD;
        four(base, at, at + stride, at + 2 * stride, at + 3 * stride, ROW_EVERY * 2 / LINE);
    }
}
