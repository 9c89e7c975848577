package jllm.tokenizer.model;

import jllm.tokenizer.util.IntList;

/** Turns one pre-tokenized piece into token ids (BPE, WordPiece, Unigram). Implementations are thread-safe. */
public interface Model {
    void encode(String piece, IntList out);

    /** The token string of a model id, or null when out of range. */
    String idToToken(int id);

    /** The id of a token string, or -1. */
    int tokenToId(String token);

    int vocabSize();
}
