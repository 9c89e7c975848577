package jllm.tensor;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Runs a test body with one of the kernels' static switches (F16Tensor.widenRows, QuantMatmul.int16Prefill) set, restoring it after. */
final class KernelSwitch {
    private KernelSwitch() { }

    static void with(BooleanSupplier get, Consumer<Boolean> set, boolean value, Runnable body) {
        boolean was = get.getAsBoolean();
        set.accept(value);
        try {
            body.run();
        } finally {
            set.accept(was);
        }
    }
}
