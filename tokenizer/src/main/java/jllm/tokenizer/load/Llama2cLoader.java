package jllm.tokenizer.load;

import jllm.formats.FormatException;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.model.Bpe;
import jllm.tokenizer.model.Vocab;
import jllm.tokenizer.normalizer.NormalizerSequence;
import jllm.tokenizer.normalizer.Prepend;
import jllm.tokenizer.normalizer.Replace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * llama2.c {@code tokenizer.bin}: i32 max token length, then per token f32 score, i32 byte length,
 * bytes. The exporter wrote "▁" as a space and BOS/EOS as "\n<s>\n" / "\n</s>\n"; both are undone
 * so the vocabulary is the SentencePiece one again. Encoding is SentencePiece BPE by score with
 * byte fallback and a dummy prefix, as llama2.c's encoder does. Ids 0, 1, 2 are unk, BOS, EOS.
 */
final class Llama2cLoader {
    private Llama2cLoader() {}

    static Tokenizer load(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage());
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bb.remaining() < 4) throw new FormatException(path + ": too short for a llama2.c tokenizer");
        int maxLen = bb.getInt();
        if (maxLen <= 0 || maxLen > 1 << 16) throw new FormatException(path + ": implausible max token length " + maxLen + " (not a llama2.c tokenizer.bin?)");
        List<String> toks = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (bb.hasRemaining()) {
            if (bb.remaining() < 8) throw new FormatException(path + ": truncated at token " + toks.size());
            float score = bb.getFloat();
            int len = bb.getInt();
            if (len > maxLen) throw new FormatException(path + ": token " + toks.size() + " is " + len + " bytes, longer than the header's max_token_length " + maxLen + " (not a llama2.c tokenizer.bin?)");
            if (len < 0 || len > bb.remaining()) throw new FormatException(path + ": token " + toks.size() + " length " + len + " runs past the end");
            byte[] t = new byte[len];
            bb.get(t);
            String s = new String(t, StandardCharsets.UTF_8);
            if (s.equals("\n<s>\n")) s = "<s>";
            else if (s.equals("\n</s>\n")) s = "</s>";
            else s = s.replace(' ', '\u2581');
            toks.add(s);
            scores.add(score);
        }
        if (toks.size() < 3) throw new FormatException(path + ": only " + toks.size() + " tokens");
        String[] arr = toks.toArray(new String[0]);
        Vocab vocab = Vocab.of(arr);
        float[] sc = new float[arr.length];
        for (int i = 0; i < sc.length; i++) sc[i] = scores.get(i);
        Bpe model = new Bpe(vocab, Bpe.mergesFromScores(vocab, sc, null), arr[0], false, true, false, null, null);
        var normalizer = new NormalizerSequence(List.of(new Prepend(" "), new Replace(" ", null, "\u2581")));
        List<AddedToken> added = List.of(AddedToken.special(0, arr[0]), AddedToken.special(1, arr[1]), AddedToken.special(2, arr[2]));
        return SentencePieceLoader.build(path.toString(), vocab, model, normalizer, added, 1, 2, 0, arr.length, true);
    }
}
