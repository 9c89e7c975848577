package jllm.cli;

import java.nio.file.Path;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.export.GgufVocabWriter;

/** Writes a checkpoint's tokenizer and chat template into GGUF metadata (tokenizer.ggml.*). */
final class TokenizerMetadata {
    private TokenizerMetadata() {}

    /**
     * Adds the tokenizer of {@code hfDir} (tokenizer.json and/or a SentencePiece tokenizer.model, with
     * tokenizer_config.json, config.json for the vocabulary size and special ids). A directory without
     * tokenizer files gets no tokenizer keys; a
     * malformed or unsupported tokenizer fails the conversion with the reason, since a GGUF whose
     * vocabulary silently differs from the model's would generate garbage in llama.cpp and Ollama.
     */
    static void add(Path hfDir, GgufWriter w) {
        GgufVocabWriter.addTo(hfDir, w);
    }
}
