package jllm.formats.gguf;

/** Metadata value types of the GGUF container, with their on-disk type ids. */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Size in bytes of one value, or -1 when variable (string, array). */
    public final int size;

    GgufValueType(int id, int size) { this.id = id; this.size = size; }

    private static final GgufValueType[] BY_ID = values();

    /** The type with this id, or null when the id is unknown. */
    public static GgufValueType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
