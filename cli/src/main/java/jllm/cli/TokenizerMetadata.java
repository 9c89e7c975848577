package jllm.cli;

import java.nio.file.Path;
import jllm.formats.gguf.GgufWriter;

/** Writes a checkpoint's tokenizer and chat template into GGUF metadata (tokenizer.ggml.*). */
final class TokenizerMetadata {
    private TokenizerMetadata() {}

    static void add(Path hfDir, GgufWriter w) {
        // filled in once the tokenizer module can export GGUF vocabularies
    }
}
