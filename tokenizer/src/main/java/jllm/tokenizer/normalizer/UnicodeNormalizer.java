package jllm.tokenizer.normalizer;

import java.text.Normalizer.Form;

/** NFC / NFD / NFKC / NFKD. */
public record UnicodeNormalizer(Form form) implements Normalizer {
    @Override
    public String normalize(String s) {
        // isNormalized is a cheap scan; most text is already NFC.
        return java.text.Normalizer.isNormalized(s, form) ? s : java.text.Normalizer.normalize(s, form);
    }
}
