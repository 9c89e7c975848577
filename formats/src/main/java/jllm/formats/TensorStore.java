package jllm.formats;

import java.util.Set;
import jllm.tensor.DType;
import jllm.tensor.Tensor;

/** Named tensors from a checkpoint (one file, a sharded set, a converted legacy format). */
public interface TensorStore extends AutoCloseable {
    record Info(String name, DType dtype, long[] shape) {}

    /** Where the tensors come from, for error messages. */
    String source();

    Set<String> names();

    default boolean has(String name) { return names().contains(name); }

    /**
     * The tensor's dtype and shape. This default asks {@link #tensor(String)}, right for stores that
     * hold or build their tensors anyway; stores that map files answer from their index instead.
     */
    default Info info(String name) {
        Tensor t = tensor(name);
        return new Info(name, t.dtype(), t.shape());
    }

    /** The tensor as stored (F32/F16/BF16 views, no copy); integer tensors are not floats. */
    Tensor tensor(String name);

    /**
     * The tensor with any memory it needs (a store that makes or converts tensors) allocated in
     * {@code arena}, which the caller closes when done with it; stores that map files need none.
     */
    default Tensor tensor(String name, java.lang.foreign.Arena arena) { return tensor(name); }

    /** Integer tensor (e.g. token ids) widened to long. */
    long[] longs(String name);

    /** The files this store reads (so that a command never writes its output over one of them). */
    default java.util.List<java.nio.file.Path> files() { return java.util.List.of(); }

    @Override
    default void close() {}

    default FormatException missing(String name) {
        return new FormatException(source() + ": missing tensor '" + name + "'");
    }
}
