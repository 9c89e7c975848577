package jllm.tokenizer.pretokenizer;

import java.util.List;

/**
 * Splits normalized text into pieces (and may rewrite them, e.g. byte-level mapping). {@code atStart}
 * tells whether the first piece begins at offset 0 of the original input (Metaspace "first").
 */
public interface PreTokenizer {
    List<String> apply(List<String> pieces, boolean atStart);
}
