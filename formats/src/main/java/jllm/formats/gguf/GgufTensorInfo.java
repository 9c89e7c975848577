package jllm.formats.gguf;

import java.lang.foreign.MemorySegment;

/**
 * One tensor of a GGUF file. {@code dims} are in ggml order (dims[0] varies fastest), {@code ggmlType}
 * is the raw ggml type id (readers of quantized types interpret it), {@code offset} is relative to
 * the data section, and {@code data} is the tensor's bytes (its length is computed from the type's
 * block size when the type is known, otherwise it runs to the next tensor or the end of the file).
 */
public record GgufTensorInfo(String name, long[] dims, int ggmlType, long offset, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }
}
