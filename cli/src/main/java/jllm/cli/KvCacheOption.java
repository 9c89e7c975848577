package jllm.cli;

import jllm.model.Model;
import jllm.tensor.KvType;
import picocli.CommandLine.Option;

/** {@code --kv-type}, shared by generate, chat and bench. */
final class KvCacheOption {
    @Option(names = "--kv-type", defaultValue = "f32", paramLabel = "f32|f16|q8_0",
            description = "How the KV cache stores keys and values: f32 (default: transformers' values exactly), f16 or q8_0"
                    + " (half / a quarter of the memory and faster at long context, with a small error: docs/quantization-and-speed.md)")
    String kvType;

    KvType type() { return KvType.parse(kvType); }

    Model apply(Model m) { return m.kvType(type()); }
}
