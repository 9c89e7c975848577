package jllm.tokenizer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.load.HfJsonLoader;
import jllm.tokenizer.pretokenizer.KnownPatterns;

/**
 * A learned vocabulary and merge list, written as Hugging Face {@code tokenizer.json} +
 * {@code tokenizer_config.json} (the layout transformers, tokenizers and llama.cpp's converter read).
 */
public final class TrainedTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public final TokenizerTrainer.Kind kind;
    /** Token strings by id (byte-level alphabet or "▁" form, as stored in tokenizer.json). */
    public final List<String> tokens;
    public final List<String[]> merges;
    /** All special tokens (unk first for byte-fallback, then bos, eos, pad, extras). */
    public final List<String> specials;
    public final String bos, eos, pad;
    public final boolean addBos;
    public final String chatTemplate;

    TrainedTokenizer(TokenizerTrainer.Kind kind, List<String> tokens, List<String[]> merges, List<String> specials,
                     String bos, String eos, String pad, boolean addBos, String chatTemplate) {
        this.kind = kind;
        this.tokens = List.copyOf(tokens);
        this.merges = List.copyOf(merges);
        this.specials = List.copyOf(specials);
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.addBos = addBos;
        this.chatTemplate = chatTemplate;
    }

    public int vocabSize() { return tokens.size(); }

    public int id(String token) { return tokens.indexOf(token); }

    public ObjectNode tokenizerJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : specials) specialToken(added.addObject().put("id", id(s)), s);
        root.putNull("normalizer");
        if (kind == TokenizerTrainer.Kind.BYTE_LEVEL) {
            ObjectNode pre = root.putObject("pre_tokenizer");
            pre.put("type", "Sequence");
            ArrayNode seq = pre.putArray("pretokenizers");
            ObjectNode split = seq.addObject();
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", KnownPatterns.LLAMA3);
            split.put("behavior", "Isolated");
            split.put("invert", false);
            ObjectNode bl = seq.addObject();
            bl.put("type", "ByteLevel");
            bl.put("add_prefix_space", false);
            bl.put("trim_offsets", true);
            bl.put("use_regex", false);
        } else {
            ObjectNode pre = root.putObject("pre_tokenizer");
            pre.put("type", "Metaspace");
            pre.put("replacement", "\u2581");
            pre.put("prepend_scheme", "never");
            pre.put("split", true);
        }
        if (addBos) {
            ObjectNode pp = root.putObject("post_processor");
            pp.put("type", "TemplateProcessing");
            ArrayNode single = pp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = pp.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = pp.putObject("special_tokens").putObject(bos);
            st.put("id", bos);
            st.putArray("ids").add(id(bos));
            st.putArray("tokens").add(bos);
        } else {
            root.putNull("post_processor");
        }
        ObjectNode dec = root.putObject("decoder");
        if (kind == TokenizerTrainer.Kind.BYTE_LEVEL) {
            dec.put("type", "ByteLevel");
            dec.put("add_prefix_space", true);
            dec.put("trim_offsets", true);
            dec.put("use_regex", true);
        } else {
            dec.put("type", "Sequence");
            ArrayNode ds = dec.putArray("decoders");
            ObjectNode rep = ds.addObject();
            rep.put("type", "Replace");
            rep.putObject("pattern").put("String", "\u2581");
            rep.put("content", " ");
            ds.addObject().put("type", "ByteFallback");
            ds.addObject().put("type", "Fuse");
        }
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        if (kind == TokenizerTrainer.Kind.BYTE_FALLBACK) model.put("unk_token", TokenizerTrainer.UNK);
        else model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", kind == TokenizerTrainer.Kind.BYTE_FALLBACK);
        model.put("byte_fallback", kind == TokenizerTrainer.Kind.BYTE_FALLBACK);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) vocab.put(tokens.get(i), i);
        ArrayNode ms = model.putArray("merges");
        for (String[] m : merges) ms.addArray().add(m[0]).add(m[1]);
        return root;
    }

    public ObjectNode tokenizerConfigJson() {
        ObjectNode c = JSON.createObjectNode();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("add_bos_token", addBos);
        c.put("add_eos_token", false);
        c.put("bos_token", bos);
        c.put("eos_token", eos);
        c.put("pad_token", pad);
        if (kind == TokenizerTrainer.Kind.BYTE_FALLBACK) c.put("unk_token", TokenizerTrainer.UNK);
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", 1L << 40);
        ObjectNode dec = c.putObject("added_tokens_decoder");
        for (String s : specials) specialToken(dec.putObject(String.valueOf(id(s))), s);
        if (chatTemplate != null) c.put("chat_template", chatTemplate);
        return c;
    }

    /** The fields of a special added token (never split, never normalised), as both files spell them. */
    private static void specialToken(ObjectNode t, String content) {
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
    }

    /** Loads the files this tokenizer writes into jllm's own tokenizer (without touching the disk). */
    public Tokenizer load() {
        return HfJsonLoader.fromJson("trained tokenizer", tokenizerJson(), tokenizerConfigJson());
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir} (created; see {@link OutputFile#directory}). */
    public void write(Path dir, boolean overwrite, List<Path> inputs) {
        Path real = OutputFile.directory(dir, overwrite, inputs);
        try {
            byte[] tj = JSON.writeValueAsString(tokenizerJson()).getBytes(StandardCharsets.UTF_8);
            byte[] tc = JSON.writeValueAsString(tokenizerConfigJson()).getBytes(StandardCharsets.UTF_8);
            OutputFile.write(real.resolve("tokenizer.json"), true, inputs, (OutputFile.StreamBody) out -> out.write(tj));
            OutputFile.write(real.resolve("tokenizer_config.json"), true, inputs, (OutputFile.StreamBody) out -> out.write(tc));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(dir + ": cannot serialise tokenizer: " + e.getMessage(), e);
        }
    }
}
