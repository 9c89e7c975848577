package jllm.train.pretrain;

import java.nio.file.Path;
import java.util.Arrays;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Tokenizer;

/**
 * A text to pretrain on, split by position as nanoGPT splits it: the first {@code 1 - valFraction}
 * of its characters train, the rest validate (no shuffling: the validation text is text the model
 * never saw, not lines scattered among training lines). Each part is tokenized on its own.
 *
 * <p>With a document separator ({@code eosAfter}, e.g. a blank line), the text is cut after each
 * occurrence and the end-of-sequence token is put after every piece, so the model learns to end a
 * document. Without it a model never sees EOS: its EOS logit only ever gets pushed down, and a later
 * fine-tune has a hard time teaching it to stop (a plain-format fine-tune ends every response with EOS).
 * In the validation stream the EOS tokens are there as context but are not scored
 * ({@link #validationIgnored}), so validation loss stays a loss over the text's own tokens.
 *
 * @param validationChars characters of the validation part (UTF-16 code units), the denominator of loss per character
 * @param validationIgnored a token id that is never a validation target (the inserted EOS), or -1
 */
public record TextCorpus(int[] train, int[] validation, long trainChars, long validationChars, int validationIgnored) {
    public static TextCorpus read(Path file, Tokenizer tok, double valFraction, String eosAfter) {
        if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("--val-fraction must be in [0, 1), not " + valFraction);
        String text = TextFile.readUtf8(file);
        if (text.isBlank()) throw new IllegalArgumentException(file + ": the text is empty");
        int eos = -1;
        if (eosAfter != null) {
            if (eosAfter.isEmpty()) throw new IllegalArgumentException("--eos-after needs a non-empty separator");
            if (tok.eosId().isEmpty()) throw new IllegalArgumentException(tok.source() + ": the tokenizer has no end-of-sequence token for --eos-after");
            eos = tok.eosId().getAsInt();
        }
        int cut = (int) (text.length() * (1 - valFraction));
        if (cut > 0 && cut < text.length() && Character.isLowSurrogate(text.charAt(cut))) cut--;
        String tr = text.substring(0, cut), va = text.substring(cut);
        int[] t = encode(tok, tr, eosAfter, eos), v = valFraction > 0 ? encode(tok, va, eosAfter, eos) : new int[0];
        if (t.length < 2) throw new IllegalArgumentException(file + ": the training part has " + t.length + " token(s); too little text");
        return new TextCorpus(t, v, tr.length(), va.length(), eos);
    }

    private static int[] encode(Tokenizer tok, String text, String eosAfter, int eos) {
        if (eosAfter == null) return tok.encode(text, false);
        int[] out = new int[Math.max(16, text.length() / 2)];
        int n = 0;
        for (int from = 0; from < text.length(); ) {
            int at = text.indexOf(eosAfter, from);
            int to = at < 0 ? text.length() : at + eosAfter.length();
            int[] ids = tok.encode(text.substring(from, to), false);
            if (n + ids.length + 1 > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length + 1));
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
            if (at >= 0) out[n++] = eos;
            from = to;
        }
        return Arrays.copyOf(out, n);
    }
}
