package jllm.cli;

import java.nio.file.Path;
import java.util.Locale;
import jllm.model.Model;
import jllm.train.lora.LoraAdapters;
import jllm.train.peft.PeftAdapter;

/** {@code --adapter DIR}: a PEFT LoRA adapter applied to a loaded model without merging. */
final class Adapters {
    private Adapters() {}

    /** Reads the adapter, attaches it to the model's linear layers and says so on stderr; null dir: nothing. */
    static PeftAdapter attach(Model m, Path dir) {
        if (dir == null) return null;
        PeftAdapter a = PeftAdapter.read(dir);
        LoraAdapters.load(m.weights, a);
        System.err.printf(Locale.ROOT, "adapter %s: %d layers (%s), r %d, alpha %s%s, scale %.4g%n", dir, a.layers.size(),
                String.join(",", a.config.targetModules()), a.config.r(), num(a.config.alpha()), a.config.useRslora() ? ", rsLoRA" : "",
                a.config.scale());
        return a;
    }

    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
