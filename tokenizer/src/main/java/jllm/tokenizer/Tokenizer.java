package jllm.tokenizer;

import jllm.tokenizer.load.Loaders;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A loaded tokenizer: Hugging Face tokenizer.json (+ tokenizer_config.json), GGUF vocabulary,
 * SentencePiece .model or llama2.c tokenizer.bin. {@link #encode(String, boolean)} with
 * addSpecial=false reproduces tokenizers' {@code encode(text, add_special_tokens=False)}; with
 * addSpecial=true it reproduces transformers' {@code tokenizer(text)} (for GGUF: llama.cpp with BOS/EOS
 * per the metadata). Immutable and thread-safe.
 */
public final class Tokenizer {
    private final String source;
    private final Pipeline plain;
    private final Pipeline withSpecial;
    private final int vocabSize;
    private final Integer bos;
    private final int[] eos;
    private final Map<String, String> chatTemplates;
    private final Map<String, String> specialTokens;

    public Tokenizer(String source, Pipeline plain, Pipeline withSpecial, int vocabSize, Integer bos, int[] eos,
                     Map<String, String> chatTemplates, Map<String, String> specialTokens) {
        this.source = source;
        this.plain = plain;
        this.withSpecial = withSpecial == null ? plain : withSpecial;
        this.vocabSize = vocabSize;
        this.bos = bos;
        this.eos = eos == null ? new int[0] : eos.clone();
        this.chatTemplates = Map.copyOf(chatTemplates);
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /** Loads from a directory (tokenizer.json), tokenizer.json, .gguf, SentencePiece .model or llama2.c tokenizer.bin. */
    public static Tokenizer load(Path path) {
        return Loaders.load(path);
    }

    public int[] encode(String text, boolean addSpecial) {
        if (text == null) throw new IllegalArgumentException("text is null");
        return (addSpecial ? withSpecial : plain).encode(text, addSpecial);
    }

    public String decode(int[] ids) { return decode(ids, false); }

    public String decode(int[] ids, boolean skipSpecial) { return plain.decode(ids, skipSpecial); }

    /** A fresh incremental decoder for streaming generated tokens as text. */
    public StreamDecoder streamDecoder(boolean skipSpecial) { return new StreamDecoder(this, skipSpecial); }

    /** The token's string as stored in the vocabulary (byte-level or ▁ form), or null. */
    public String tokenText(int id) { return plain.tokenString(id); }

    /** The id of an exact token string (vocabulary or added token), or empty. */
    public OptionalInt tokenId(String token) {
        for (AddedToken t : plain.added().tokens()) if (t.content().equals(token)) return OptionalInt.of(t.id());
        int id = plain.model().tokenToId(token);
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }

    public boolean isSpecial(int id) { return plain.isSpecial(id); }

    public int vocabSize() { return vocabSize; }

    public OptionalInt bosId() { return bos == null ? OptionalInt.empty() : OptionalInt.of(bos); }

    /** The primary end-of-sequence id (the first of {@link #eosIds()}). */
    public OptionalInt eosId() { return eos.length == 0 ? OptionalInt.empty() : OptionalInt.of(eos[0]); }

    /** All ids that end generation (eos_token plus e.g. eot/eom/end_of_turn tokens that the model's files name). */
    public int[] eosIds() { return eos.clone(); }

    /** Named chat templates ("default" for the main one); empty when the files have none. */
    public Map<String, String> chatTemplates() { return chatTemplates; }

    public Optional<String> chatTemplate() { return Optional.ofNullable(chatTemplates.get("default")); }

    /** Special token strings by role: bos_token, eos_token, unk_token, pad_token, ... */
    public Map<String, String> specialTokens() { return specialTokens; }

    public List<AddedToken> addedTokens() { return new ArrayList<>(plain.added().tokens()); }

    public String source() { return source; }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocab " + vocabSize + ", bos " + bos + ", eos " + Arrays.toString(eos) + "]";
    }
}
