package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The "rows as lanes" layout every quantized format is repacked into for its kernels
 * ({@link QuantMatmul}): its shape constants, species and per-thread buffers.
 *
 * <p>Output rows are grouped in panels of {@link #P} rows, one per 16-bit lane of the preferred
 * vector (32 at 512 bits, 16 at 256, 8 at 128), so every kernel works at every width. Within a panel
 * the codes of one column {@code k} (or of two columns sharing a byte; Q4_0: four columns' nibbles in
 * each 16-bit lane, {@link FourNibbles}) for all P rows sit next to each other: a kernel step over
 * {@code k} is one load widened to 16-bit lanes, and there is no horizontal reduction anywhere.
 * Scales are stored per row in the same lane order.
 *
 * <p>The lanes are ordered rows 0, P/2, 1, P/2 + 1, ...: read as 32-bit lanes, the low halves are rows
 * [0, P/2) and the high halves rows [P/2, P), so widening 16-bit sums (or fp16 scales) to fp32 is a
 * couple of shifts per half and the two halves come out as rows in order.
 *
 * <p><b>Why the kernels repeat their vector code instead of calling shared helpers.</b> C2 inlines
 * the Vector API's own methods unconditionally (they are {@code @ForceInline}), but a helper of ours
 * is inlined only while the compilation is under its node budget (NodeCountInliningCutoff, 18000
 * nodes; each vector operation costs 400-1500 nodes before it is intrinsified). Past the budget a
 * helper becomes a real call and every vector it takes or returns is boxed: a K-quant kernel ran at
 * 60% of its speed that way, depending on which methods C2 happened to inline into which. So inside
 * kernels vectors never cross a method of ours; kernels hand data to each other through per-thread
 * arrays ({@link Scratch}), which costs an L1 store and load per block.
 *
 * <p><b>Why {@code (ShortVector) v.reinterpretShape(S, 0)} and {@code v.convertShape(I2F, F, 0)},
 * never {@code v.reinterpretAsShorts()} or {@code v.convert(I2F, 0)}.</b> While C2 parses a kernel,
 * each vector is still typed by its declared class (ShortVector, not Short128Vector): the operations
 * that made it are intrinsified later. {@code reinterpretAsX()} and {@code convert} are written once
 * in {@code AbstractVector}, and the calls inside them on that not-yet-exact vector ({@code
 * asVectorRaw}, {@code vspecies}, {@code convertShape}) are resolved with the type profile of that one
 * JDK method, which every kernel of the process shares: Byte, Short, Int and Float vectors pass
 * through it, so the profile is bi- or megamorphic, C2 makes a virtual call or a type switch, the
 * species downstream is no longer a constant, and those operations and all that use their results
 * stay Java fallbacks for the life of the process. Which kernels it hit depended on what ran before
 * ({@code bench kernels} at 128 bits: f16, q8_0, q4_1 and q4_k at 8-13% of the bandwidth in one run).
 * {@code reinterpretShape} and {@code convertShape} are implemented in each concrete vector class,
 * so the call and its profile are the kernel's own, monomorphic, and the target species a constant
 * (C2's log, {@code tools/c2-vector-fallbacks.py}; docs/quantization-and-speed.md, thirty-first round).
 * For the same reason a vector carried round a loop is not stored with {@code ShortVector.intoArray}
 * where 16-bit vectors of two widths exist ({@link FiveBits#run} stores its sums as ints). Even a
 * monomorphic profile only holds because the launcher raises C2's trap limits ({@link JitLimits}):
 * at the defaults every guard of a kernel could get a virtual call instead of a trap.
 */
final class Panels {
    static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    /** Rows per panel: one per 16-bit lane. */
    static final int P = S.length();
    /** Half a panel: the rows of one fp32 vector. */
    static final int H = P / 2;
    /** P bytes: one byte per row, widened to {@link #S}. */
    static final VectorSpecies<Byte> BP = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    /** A whole vector of bytes: loads from the panel arrays, reinterpreted as 16- or 32-bit lanes. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize()));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(S.vectorBitSize()));
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize()));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Whether the JIT has only 16 vector registers (x86 below AVX-512, i.e. HotSpot's {@code UseAVX}
     * under 3; AVX-512 and ARM have 32): {@link QuantMatmul}'s tiles then keep half the accumulators.
     * Tiles that need 15-19 registers spilled there: at {@code -XX:UseAVX=2} (AMD EPYC, one thread)
     * the 6-row fp32 panel GEMM ran at 37% of the FMA peak against 82% at 512 bits ({@link PanelMatmul}
     * has since one four-row kernel that fits both).
     * {@code -Djllm.fewRegisters=true|false} overrides the guess.
     */
    static final boolean FEW_REGISTERS = fewRegisters();

    private static boolean fewRegisters() {
        String forced = System.getProperty("jllm.fewRegisters");
        if (forced != null) return Boolean.parseBoolean(forced);
        if (!System.getProperty("os.arch", "").matches("amd64|x86_64|x86|i386")) return false;
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Integer.parseInt(vm.getVMOption("UseAVX").getValue()) < 3;
        } catch (RuntimeException | LinkageError e) { // not HotSpot: judge by the vector width
            return ShortVector.SPECIES_PREFERRED.vectorBitSize() < 512;
        }
    }

    /** 128- to 512-bit vectors (a wider machine would need another panel shape; such tensors keep the per-row path). */
    static final boolean SUPPORTED = P >= 8 && P <= 32 && F.length() == FloatVector.SPECIES_PREFERRED.length();

    private Panels() { }

    /** Little-endian longs, ints and shorts in a byte[], for the repacks that move 8, 4 or 2 bytes at a time. */
    static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN),
            INTS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN),
            SHORTS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * Rows to lanes, the byte transpose of the repacks: {@code dst[d + j P + l] = src[s + l stride + j]}
     * for the P rows {@code l} and {@code n} columns {@code j} (a multiple of 8). 8 x 8 tiles are
     * transposed in longs, three stages of swapping bytes, byte pairs and quads between rows, with 8
     * loads and 8 stores per tile instead of 64 of each. One thread, an [8192, 2048] tensor, AMD EPYC:
     * the Q4_K repack from 0.92 to 1.09 GB/s, Q4_0 from 1.04 to 1.26 (the first token waits for
     * every tensor's repack; the rest of it is the gather of the rows, the page faults of the new
     * panels and Q4_K's scale unpacking).
     */
    static void lanes(byte[] src, int s, int stride, byte[] dst, int d, int n) {
        for (int l0 = 0; l0 < P; l0 += 8)
            for (int j0 = 0; j0 < n; j0 += 8) {
                int a = s + l0 * stride + j0;
                long r0 = (long) LONGS.get(src, a), r1 = (long) LONGS.get(src, a + stride);
                long r2 = (long) LONGS.get(src, a + 2 * stride), r3 = (long) LONGS.get(src, a + 3 * stride);
                long r4 = (long) LONGS.get(src, a + 4 * stride), r5 = (long) LONGS.get(src, a + 5 * stride);
                long r6 = (long) LONGS.get(src, a + 6 * stride), r7 = (long) LONGS.get(src, a + 7 * stride);
                long t, m = 0x00FF00FF00FF00FFL;
                t = ((r0 >>> 8) ^ r1) & m; r1 ^= t; r0 ^= t << 8;
                t = ((r2 >>> 8) ^ r3) & m; r3 ^= t; r2 ^= t << 8;
                t = ((r4 >>> 8) ^ r5) & m; r5 ^= t; r4 ^= t << 8;
                t = ((r6 >>> 8) ^ r7) & m; r7 ^= t; r6 ^= t << 8;
                m = 0x0000FFFF0000FFFFL;
                t = ((r0 >>> 16) ^ r2) & m; r2 ^= t; r0 ^= t << 16;
                t = ((r1 >>> 16) ^ r3) & m; r3 ^= t; r1 ^= t << 16;
                t = ((r4 >>> 16) ^ r6) & m; r6 ^= t; r4 ^= t << 16;
                t = ((r5 >>> 16) ^ r7) & m; r7 ^= t; r5 ^= t << 16;
                m = 0x00000000FFFFFFFFL;
                t = ((r0 >>> 32) ^ r4) & m; r4 ^= t; r0 ^= t << 32;
                t = ((r1 >>> 32) ^ r5) & m; r5 ^= t; r1 ^= t << 32;
                t = ((r2 >>> 32) ^ r6) & m; r6 ^= t; r2 ^= t << 32;
                t = ((r3 >>> 32) ^ r7) & m; r7 ^= t; r3 ^= t << 32;
                int b = d + j0 * P + l0;
                LONGS.set(dst, b, r0);
                LONGS.set(dst, b + P, r1);
                LONGS.set(dst, b + 2 * P, r2);
                LONGS.set(dst, b + 3 * P, r3);
                LONGS.set(dst, b + 4 * P, r4);
                LONGS.set(dst, b + 5 * P, r5);
                LONGS.set(dst, b + 6 * P, r6);
                LONGS.set(dst, b + 7 * P, r7);
            }
    }

    /**
     * Rows to lanes in 16-bit units, the transpose of the four-nibble layout ({@link FourNibbles}):
     * {@code dst[d + 2 (u P + l) + i] = src[s + l stride + 2 u + i]} for the P rows {@code l}, {@code n}
     * units {@code u} (a multiple of 4) and {@code i < 2}. As {@link #lanes}, in 4 x 4 tiles of
     * shorts held in longs (two stages of swapping shorts and ints between rows).
     */
    static void lanes16(byte[] src, int s, int stride, byte[] dst, int d, int n) {
        for (int l0 = 0; l0 < P; l0 += 4)
            for (int u0 = 0; u0 < n; u0 += 4) {
                int a = s + l0 * stride + 2 * u0;
                long r0 = (long) LONGS.get(src, a), r1 = (long) LONGS.get(src, a + stride);
                long r2 = (long) LONGS.get(src, a + 2 * stride), r3 = (long) LONGS.get(src, a + 3 * stride);
                long t, m = 0x0000FFFF0000FFFFL;
                t = ((r0 >>> 16) ^ r1) & m; r1 ^= t; r0 ^= t << 16;
                t = ((r2 >>> 16) ^ r3) & m; r3 ^= t; r2 ^= t << 16;
                m = 0x00000000FFFFFFFFL;
                t = ((r0 >>> 32) ^ r2) & m; r2 ^= t; r0 ^= t << 32;
                t = ((r1 >>> 32) ^ r3) & m; r3 ^= t; r1 ^= t << 32;
                int b = d + 2 * (u0 * P + l0);
                LONGS.set(dst, b, r0);
                LONGS.set(dst, b + 2 * P, r1);
                LONGS.set(dst, b + 4 * P, r2);
                LONGS.set(dst, b + 6 * P, r3);
            }
    }

    /** Row of panel lane {@code lane}: 0, P/2, 1, P/2 + 1, ... */
    static int laneRow(int lane) { return (lane & 1) == 0 ? lane >> 1 : H + (lane >> 1); }

    /**
     * A 16-bit value in both halves of an int: x codes ({@link Int8Activations#q2}) and centring terms
     * are broadcast to every 16-bit lane as {@code ((ShortVector) IntVector.broadcast(I, twice(v)).reinterpretShape(S, 0))},
     * one 32-bit broadcast load (a 16-bit broadcast costs a shuffle-port op on x86).
     */
    static int twice(int v) { return v & 0xffff | v << 16; }

    /**
     * Whether the kernels shift 16-bit lanes by a vector of counts ({@code vpsrlvw}, one op) rather than
     * by a scalar: C2 has no immediate form for 16-bit lane shifts, and its count-in-a-register form
     * ({@code vpsrlw zmm, zmm, xmm}) is two ops on Intel cores, one on the shuffle port the
     * broadcasts need. Only with 512-bit vectors (which C2 gives 16-bit lanes only with AVX512BW: an
     * AVX2 core has no 16-bit variable shift, and C2 widens it to 32 bits) and where reads are serial
     * (Intel: measured there only). The decode kernels in cache ([1024, 2048], one thread, five
     * alternating runs, median and range, Intel Xeon family 6 model 207, thirty-fourth round): Q4_0
     * 43.0 (32.2-44.6) against 36.6 (33.6-39.2) Gw/s, Q4_K 34.3 (32.3-35.7) against 29.6 (20.6-31.6),
     * Q5_K 18.1 (17.8-19.3) against 17.6 (16.6-18.7), Q6_K 17.9 (17.6-18.3) against 17.7 (17.3-18.1);
     * Q6_K alone, five more pairs, 18.4 (17.8-19.0) against 17.1 (16.9-17.4). Each shift is written
     * as {@code VC ? v.lanewise(LSHR, counts) : v.lanewise(LSHR, n)}: a helper method for it was not
     * inlined into Q6_K's kernel (boxed vectors, 1.5-1.8 Gw/s).
     */
    static final boolean VECTOR_COUNTS = S.length() >= 32 && CpuInfo.serialReads();

    /**
     * 2^112: rebiases an fp16 exponent (bias 15) placed in an fp32 exponent field (bias 127). Kernels
     * widen a pair of fp16 scales held in one 32-bit lane (rows i and P/2 + i) as
     * {@code (h << 16) >>> 3 & 0x8fffffff} (low half) or {@code (h & 0xffff0000) >> 3 & 0x8fffffff}
     * (high half), reinterpreted as fp32 and multiplied by this: the arithmetic shift puts sign,
     * exponent and mantissa into fp32's fields, the mask clears the three sign copies. Exact for normal
     * and subnormal values; inf/NaN scales (a broken file, which the loader reports) come out finite.
     */
    static final float REBIAS = 0x1p112f;

    /**
     * A tensor's repacked panels, {@code bytes} each, {@code per} whole panels per heap array (or per
     * native buffer, for the formats that keep them there: {@link QuantTensor#heapPanels}).
     *
     * <p>Why heap arrays and not a native segment: the kernels' loads then take int offsets, and C2
     * checks an int-indexed array load of a counted loop once per loop entry (loop predication). A
     * load from a memory segment takes a long offset, and for long range checks C2 builds a loop nest
     * whose preheader (about 25 instructions with {@code cmov}s per stream) runs at every entry of a
     * kernel's inner loop, i.e. once per block: a fifth of the Q4_0 kernel's instructions (ninth
     * round, docs/quantization-and-speed.md). The same kernels, paired in one process (AMD EPYC, one
     * thread, [2048, 4096] in L3): Q4_0 1.23x, Q8_0 1.15x, Q4_K 1.18x, Q5_0/Q5_1 1.08x at AVX2, 1.01-1.09x
     * at AVX-512; from memory at two threads 1.01-1.08x at AVX2 and no change at AVX-512; the 1B
     * Q4_K_M model's decode 1.10x (AVX2) and 1.08x (AVX-512). A heap segment over the arrays
     * ({@code MemorySegment.ofArray}) is no way around it: the Q6_K kernel ran at 0.43x through one.
     *
     * <p>Several arrays rather than one: an array holds at most 2 GiB, and arrays larger than the
     * young generation go straight into the old one, never copied. The heap has to hold the model's
     * weights: the launcher lets it grow to 3/4 of the RAM.
     */
    static final class Store {
        /**
         * Bytes per array at most, where a panel is smaller (then a multiple of 4 panels: the Q4_0 and
         * Q8_0 kernels take four at a time). Not final only so that tests can spread small tensors over
         * several arrays.
         */
        static int arrayBytes = 256 << 20;

        /** The panels as heap arrays, or null where they are native ({@link QuantTensor#heapPanels}). */
        final byte[][] arrays;
        /** The native panels, or null where they are heap arrays. */
        final MemorySegment[] views;
        final int per, bytes;
        /** Where the first panel starts in the (one) array: non-zero for a tensor placed in a shared array ({@link #place}). */
        private final int base;
        /** The shared array a placed tensor's panels go to, allocated when the first of its tensors is built. */
        private final Shared shared;

        private Store(Shared shared, int base, int panels, int panelBytes) {
            arrays = new byte[1][];
            views = null;
            per = Math.max(1, panels);
            bytes = panelBytes;
            this.base = base;
            this.shared = shared;
        }

        /** An array several tensors' panels share, allocated on first use. */
        private static final class Shared {
            private final int size;
            private byte[] array;

            Shared(int size) { this.size = size; }

            synchronized byte[] array() {
                if (array == null) array = new byte[size];
                return array;
            }
        }

        /** Before the panels are written: a placed tensor's shared array, allocated if it is the first of them. */
        void allocateShared() {
            if (shared != null && arrays[0] == null) arrays[0] = shared.array();
        }

        /**
         * Tensors whose heap panels take less than this share arrays ({@link #place}); larger ones get
         * arrays of their own, which go straight into the old generation.
         */
        static final long SHARED_BELOW = 64L << 20;
        /**
         * Bytes per shared array at most: more than half of eden with the launcher's -Xmn64m (so that
         * it is allocated in the old generation), and small enough that allocating one ahead of the
         * repack adds little to the peak resident memory.
         */
        static final long SHARED_ARRAY = 64L << 20;

        /**
         * Heap panels for the given tensors (each {@code panels[i]} panels of {@code bytes[i]} bytes),
         * packed whole into shared arrays of up to {@link #SHARED_ARRAY} bytes; null where a tensor
         * gets arrays of its own (at least {@link #SHARED_BELOW} bytes). Why: a tensor's own array,
         * smaller than the young generation, is allocated there and copied into the old generation by
         * the next collections, while the repack fills the young generation again and again: the 1B
         * Q4_K_M model's repack (about 32 MiB of panels per layer) ran 27 young collections of 25-60 ms
         * each (AMD EPYC Zen 3, the launcher's -XX:+UseParallelGC -Xmn64m); with shared arrays of 64
         * MiB it runs none. {@code Model.prepare} took 1.49-1.76 s against 1.56-2.00 in one hour and
         * 1.71-1.99 against 1.94-2.34 in another (six alternating runs each); the peak RSS of {@code
         * jllm bench} on that model is 1225 MiB against 1141 (an array allocated ahead of its tensors).
         */
        static Store[] place(int[] panels, long[] bytes) {
            Store[] out = new Store[panels.length];
            java.util.List<Integer> group = new java.util.ArrayList<>();  // tensors sharing the next array
            long used = 0, most = Math.min(arrayBytes, SHARED_ARRAY);
            for (int i = 0; i < panels.length; i++) {
                long need = (long) panels[i] * bytes[i];
                if (need >= SHARED_BELOW) continue;
                if (used + need > most && !group.isEmpty()) {
                    share(group, used, panels, bytes, out);
                    group.clear();
                    used = 0;
                }
                group.add(i);
                used += need;
            }
            if (!group.isEmpty()) share(group, used, panels, bytes, out);
            return out;
        }

        /**
         * The group's tensors side by side in one array, allocated when its first tensor is built, not
         * now: the file's pages of the tensors not yet built are still resident, and allocating every
         * shared array up front raised the 1B Q4_K_M model's peak RSS from 1138 to 1628 MiB.
         */
        private static void share(java.util.List<Integer> group, long used, int[] panels, long[] bytes, Store[] out) {
            Shared array = new Shared(Math.toIntExact(used));
            int at = 0;
            for (int m : group) {
                out[m] = new Store(array, at, panels[m], (int) bytes[m]);
                at += panels[m] * (int) bytes[m];
            }
        }

        Store(int panels, long panelBytes, boolean heap) {
            if (panelBytes > Integer.MAX_VALUE - 64)
                throw new IllegalArgumentException("a panel of " + P + " rows takes " + panelBytes + " bytes, more than an array holds");
            bytes = (int) panelBytes;
            int n = (int) Math.max(1, Math.min(panels, arrayBytes / Math.max(1, panelBytes)));
            per = n >= 4 ? n & ~3 : n;
            base = 0;
            shared = null;
            int count = (panels + per - 1) / per;
            arrays = heap ? new byte[count][] : null;
            views = heap ? null : new MemorySegment[count];
            for (int i = 0; i < count; i++) {
                int size = Math.min(per, panels - i * per) * bytes;
                if (heap) arrays[i] = new byte[size];
                else views[i] = allocate(size);
            }
        }

        /** The array holding panel {@code p}. */
        byte[] of(int p) { return arrays[p / per]; }

        /** The native memory holding panel {@code p}. */
        MemorySegment view(int p) { return views[p / per]; }

        /** Panel {@code p}'s byte offset within {@link #of} or {@link #view}. */
        int at(int p) { return base + p % per * bytes; }

        /** Arrays (or native buffers) holding the panels. */
        int count() { return arrays != null ? arrays.length : views.length; }

        /** Panels from {@code p} to the end of its array. */
        int left(int p) { return per - p % per; }

        /** Sets panel {@code p}'s bytes. */
        void put(int p, byte[] panel) {
            if (arrays != null) System.arraycopy(panel, 0, of(p), at(p), bytes);
            else MemorySegment.copy(panel, 0, view(p), java.lang.foreign.ValueLayout.JAVA_BYTE, at(p), bytes);
        }
    }

    /** A decode kernel over the four panels at byte offsets {@code o0 .. o3} of {@code pk} for token {@code t}, into {@code acc[4 P]}. */
    interface FourPanels {
        void run(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc);
    }

    /**
     * Panels {@code [p0, p1)} of {@code pk}, four at a time through {@code kernel} (the int8 decode of
     * Q4_0 and Q8_0): a short group (the end of the range or of an array) repeats its last panel
     * (computed again, stored once), so each format keeps a single kernel.
     */
    static void int8Fours(FourPanels kernel, Store pk, Int8Activations a, float[] y, int out, int p0, int p1, float[] bias) {
        float[] acc = scratch().acc(4 * P);
        for (int p = p0, n; p < p1; p += n) {
            n = Math.min(4, Math.min(p1 - p, pk.left(p)));
            byte[] arr = pk.of(p);
            int o = pk.at(p), b = pk.bytes;
            for (int t = 0; t < a.tokens; t++) {
                kernel.run(arr, o, o + Math.min(1, n - 1) * b, o + Math.min(2, n - 1) * b, o + (n - 1) * b, a, t, acc);
                for (int k = 0; k < n; k++) store(acc, k * P, y, t * out, (p + k) * P, out, bias);
            }
        }
    }

    /**
     * A decode kernel over one 256-column block at byte offset {@code o} of {@code pk} (heap panels)
     * or {@code view} (native ones): x codes from {@code x}, activation blocks from {@code xb}, added
     * into {@code acc[0, P)}; {@code acc[P, 2P)} is its scratch.
     */
    interface Block {
        void run(byte[] pk, MemorySegment view, int o, Int8Activations a, int x, int xb, float[] acc);
    }

    /**
     * Panels {@code [p0, p1)} of {@code pk}, a layout of {@code blockBytes}-byte blocks of 256 columns,
     * block by block through {@code kernel} (the int8 decode of the K-quants).
     */
    static void int8Blocks(Block kernel, Store pk, int blockBytes, Int8Activations a, float[] y, int out, int p0, int p1, float[] bias) {
        int nb = a.cols / 256;
        float[] acc = scratch().acc(2 * P);
        for (int p = p0; p < p1; p++) {
            byte[] arr = pk.arrays == null ? null : pk.of(p);
            MemorySegment view = pk.views == null ? null : pk.view(p);
            for (int t = 0; t < a.tokens; t++) {
                java.util.Arrays.fill(acc, 0, P, 0f);
                int o = pk.at(p);
                for (int b = 0; b < nb; b++, o += blockBytes) kernel.run(arr, view, o, a, t * a.cols + 256 * b, t * a.blocks + 8 * b, acc);
                store(acc, 0, y, t * out, p * P, out, bias);
            }
        }
    }

    /**
     * Stores a panel's outputs for one token ({@code acc[ao .. ao + P)}, rows in order) at
     * {@code y[yo + row0 ..]} plus the bias; rows at or past {@code out} (a padded last panel) are dropped.
     */
    static void store(float[] acc, int ao, float[] y, int yo, int row0, int out, float[] bias) {
        if (row0 + P <= out) {
            for (int i = 0; i < P; i += H) {
                FloatVector v = FloatVector.fromArray(F, acc, ao + i);
                if (bias != null) v = v.add(FloatVector.fromArray(F, bias, row0 + i));
                v.intoArray(y, yo + row0 + i);
            }
            return;
        }
        for (int i = 0; i < P && row0 + i < out; i++) y[yo + row0 + i] = acc[ao + i] + (bias == null ? 0f : bias[row0 + i]);
    }

    /**
     * The P fp16 lanes at {@code pk[o ..]} (a panel's block scales) as floats times {@code scale}, into
     * {@code out}: rows [0, P/2) at {@code at}, rows [P/2, P) at {@code at + H}.
     */
    static void halves(byte[] pk, int o, float scale, float[] out, int at) {
        IntVector h = (IntVector) ByteVector.fromArray(B, pk, o).reinterpretShape(I, 0);
        ((FloatVector) h.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(REBIAS).mul(scale).intoArray(out, at);
        ((FloatVector) h.and(0xffff0000).lanewise(VectorOperators.ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(REBIAS).mul(scale).intoArray(out, at + H);
    }

    /**
     * {@link #halves} of four panels' block scales (at {@code a, b, c, d}) times {@code dx}, panel k's
     * at {@code sc[2k H]}. A method of its own, so that the kernel that calls it stays small enough
     * for C2 to intrinsify every Vector API operation in it (tools/c2-vector-fallbacks.py).
     */
    static void scales4(byte[] pk, int a, int b, int c, int d, float dx, float[] sc) {
        halves(pk, a, dx, sc, 0);
        halves(pk, b, dx, sc, 2 * H);
        halves(pk, c, dx, sc, 4 * H);
        halves(pk, d, dx, sc, 6 * H);
    }

    /** Per-thread buffers of the kernels that hand 16-bit sums or scales from one helper method to the next. */
    static final class Scratch {
        short[] sums = new short[0];
        int[] ints = new int[0];
        float[] f = new float[0];
        float[] acc = new float[0];

        short[] sums(int n) { if (sums.length < n) sums = new short[n]; return sums; }

        int[] ints(int n) { if (ints.length < n) ints = new int[n]; return ints; }

        float[] f(int n) { if (f.length < n) f = new float[n]; return f; }

        float[] acc(int n) { if (acc.length < n) acc = new float[n]; return acc; }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static Scratch scratch() { return SCRATCH.get(); }

    private static final java.lang.invoke.MethodHandle MMAP, MUNMAP, MADVISE;

    static {
        java.lang.invoke.MethodHandle mmap = null, munmap = null, madvise = null;
        try {
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                var l = java.lang.foreign.Linker.nativeLinker();
                var lib = l.defaultLookup();
                var A = java.lang.foreign.ValueLayout.ADDRESS;
                var J = java.lang.foreign.ValueLayout.JAVA_LONG;
                var N = java.lang.foreign.ValueLayout.JAVA_INT;
                mmap = l.downcallHandle(lib.find("mmap").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(A, A, J, N, N, N, J));
                munmap = l.downcallHandle(lib.find("munmap").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(N, A, J));
                madvise = l.downcallHandle(lib.find("madvise").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(N, A, J, N));
            }
        } catch (Throwable t) {
            mmap = null; // no native access: plain allocations
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
    }

    /**
     * Whether native weight buffers go on 2 MiB transparent huge pages ({@code -Djllm.hugepages=true},
     * which the launcher sets with {@code -XX:+UseTransparentHugePages} for the heap where the kernel
     * offers them). A decode pass streams every weight once: paired passes over the same Q6_K tensor
     * from memory, 2 threads, ran 1.06x on huge pages at 512 bits and 1.07x at AVX2 (AMD EPYC). Filling
     * them costs nothing more once the guest has backed the memory (1 GiB of heap arrays allocated and
     * touched in 0.14 s against 0.56 s on 4 KiB pages), but 2.3 s per GiB on a VM's fresh memory (host
     * faults), probably what made an earlier try cost 3x the repack time on the Xeon VM
     * (docs/quantization-and-speed.md).
     * Not final only so that tests can switch it.
     */
    static volatile boolean hugePages = Boolean.getBoolean("jllm.hugepages");

    /**
     * A zeroed buffer for a repacked tensor, freed when unreachable. On Linux an anonymous mapping
     * (on huge pages where {@link #hugePages} asks for them): the kernel zeroes each page at its first
     * touch, which happens in the repacking threads, where {@code Arena.allocate} would first memset
     * the whole buffer on one thread (a quarter of the repack time of a 150 MB tensor).
     */
    static MemorySegment allocate(long bytes) {
        if (hugePages && bytes >= HUGE) {
            MemorySegment h = allocateHuge(bytes);
            if (h != null) return h;
        }
        if (MMAP != null && bytes >= 1 << 20) {
            try {
                MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, 0x3 /* PROT_READ | PROT_WRITE */,
                        0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0L);
                if (m.address() != -1L) {
                    long at = m.address();
                    return m.reinterpret(bytes, java.lang.foreign.Arena.ofAuto(), s -> unmap(at, bytes));
                }
            } catch (Throwable t) {
                // fall back to a plain allocation
            }
        }
        return java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
    }

    private static final long HUGE = 2L << 20;

    /**
     * As {@link #allocate}, 2 MiB aligned and advised for transparent huge pages
     * ({@code MADV_HUGEPAGE}), or null where that is not available. For buffers that kernels stream
     * through once per token: with 4 KiB pages a row stream crosses a page (a TLB miss, and a
     * hardware prefetcher that stops at the boundary) every 4 KiB.
     */
    static MemorySegment allocateHuge(long bytes) {
        if (MMAP == null || MADVISE == null) return null;
        try {
            long len = bytes + HUGE;
            MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, len, 0x3 /* PROT_READ | PROT_WRITE */,
                    0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0L);
            if (m.address() == -1L) return null;
            long at = m.address(), aligned = (at + HUGE - 1) / HUGE * HUGE;
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(aligned), bytes, 14 /* MADV_HUGEPAGE */);
            return MemorySegment.ofAddress(aligned).reinterpret(bytes, java.lang.foreign.Arena.ofAuto(), s -> unmap(at, len));
        } catch (Throwable t) {
            return null;
        }
    }

    private static void unmap(long at, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(at), bytes);
        } catch (Throwable t) {
            // the mapping stays until exit
        }
    }
}
