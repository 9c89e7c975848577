package jllm.formats.gguf;

/** Block geometry of the ggml tensor types: how many values a block holds and how many bytes it takes. */
public final class GgmlTypes {
    private GgmlTypes() {}

    // {values per block, bytes per block}, indexed by ggml type id; {0,0} = unknown/removed id.
    private static final int[][] BLOCKS = new int[40][];
    static {
        for (int i = 0; i < BLOCKS.length; i++) BLOCKS[i] = new int[] {0, 0};
        set(0, 1, 4); set(1, 1, 2); set(2, 32, 18); set(3, 32, 20); set(6, 32, 22); set(7, 32, 24);
        set(8, 32, 34); set(9, 32, 36); set(10, 256, 84); set(11, 256, 110); set(12, 256, 144);
        set(13, 256, 176); set(14, 256, 210); set(15, 256, 292); set(16, 256, 66); set(17, 256, 74);
        set(18, 256, 98); set(19, 256, 50); set(20, 32, 18); set(21, 256, 110); set(22, 256, 82);
        set(23, 256, 136); set(24, 1, 1); set(25, 1, 2); set(26, 1, 4); set(27, 1, 8); set(28, 1, 8);
        set(29, 256, 56); set(30, 1, 2); set(34, 256, 54); set(35, 256, 66); set(39, 32, 17);
    }

    private static void set(int type, int values, int bytes) { BLOCKS[type] = new int[] {values, bytes}; }

    /** Values per block, or 0 when the type id is unknown. */
    public static int blockValues(int type) { return type >= 0 && type < BLOCKS.length ? BLOCKS[type][0] : 0; }

    /** Bytes per block, or 0 when the type id is unknown. */
    public static int blockBytes(int type) { return type >= 0 && type < BLOCKS.length ? BLOCKS[type][1] : 0; }
}
