package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.FormatException;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.load.GgufVocabExport;

/** Writes a checkpoint's tokenizer and chat template into GGUF metadata (tokenizer.ggml.*). */
final class TokenizerMetadata {
    private TokenizerMetadata() {}

    static void add(Path hfDir, GgufWriter w) {
        if (!Files.isRegularFile(hfDir.resolve("tokenizer.json"))) return; // weights-only checkpoint
        try {
            GgufVocabExport.write(hfDir, w);
        } catch (FormatException e) {
            // The weights are still worth converting; the user learns why the vocabulary is missing.
            System.err.println("warning: tokenizer not written to the GGUF: " + e.getMessage());
        }
    }
}
