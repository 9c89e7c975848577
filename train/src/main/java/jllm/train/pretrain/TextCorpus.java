package jllm.train.pretrain;

import java.nio.file.Path;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Tokenizer;

/**
 * A text to pretrain on, split by position as nanoGPT splits it: the first {@code 1 - valFraction}
 * of its characters train, the rest validate (no shuffling: the validation text is text the model
 * never saw, not lines scattered among training lines). Each part is tokenized on its own.
 *
 * @param validationChars characters of the validation part (Unicode code units), the denominator of loss per character
 */
public record TextCorpus(int[] train, int[] validation, long trainChars, long validationChars) {
    public static TextCorpus read(Path file, Tokenizer tok, double valFraction) {
        if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("--val-fraction must be in [0, 1), not " + valFraction);
        String text = TextFile.readUtf8(file);
        if (text.isBlank()) throw new IllegalArgumentException(file + ": the text is empty");
        int cut = (int) (text.length() * (1 - valFraction));
        if (cut > 0 && cut < text.length() && Character.isLowSurrogate(text.charAt(cut))) cut--;
        String tr = text.substring(0, cut), va = text.substring(cut);
        int[] t = tok.encode(tr, false), v = valFraction > 0 ? tok.encode(va, false) : new int[0];
        if (t.length < 2) throw new IllegalArgumentException(file + ": the training part has " + t.length + " token(s); too little text");
        return new TextCorpus(t, v, tr.length(), va.length());
    }
}
