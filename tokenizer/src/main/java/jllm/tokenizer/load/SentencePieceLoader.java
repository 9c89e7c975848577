package jllm.tokenizer.load;

import java.nio.file.Path;

final class SentencePieceLoader {
    static jllm.tokenizer.Tokenizer load(Path p) { throw new UnsupportedOperationException(); }
}
