package jllm.tokenizer;

/** A token matched in the raw (or normalized) text before the model runs, as in tokenizers' added_tokens. */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                         boolean normalized, boolean singleWord) {
    public static AddedToken special(int id, String content) {
        return new AddedToken(id, content, true, false, false, false, false);
    }
}
