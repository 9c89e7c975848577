package jllm.tokenizer.load;

import java.nio.file.Path;

final class GgufLoader {
    static jllm.tokenizer.Tokenizer load(jllm.formats.gguf.GgufFile p) { throw new UnsupportedOperationException(); }
}
