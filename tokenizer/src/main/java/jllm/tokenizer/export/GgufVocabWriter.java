package jllm.tokenizer.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jllm.formats.FormatException;
import jllm.tokenizer.load.SentencePieceModel;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.load.HfJsonLoader;
import jllm.tokenizer.pretokenizer.KnownPatterns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Turns a Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json, optionally
 * config.json, chat_template.jinja / chat_template.json) into the GGUF {@code tokenizer.*} metadata
 * that llama.cpp's converter writes, so llama.cpp, Ollama and jllm's own GGUF loader tokenize exactly
 * like the original.
 *
 * <p>A SentencePiece BPE tokenizer.model, when present (and tokenizer.json is absent or converted from
 * it), is used as llama.cpp does: its real scores and piece types (see {@code buildFromSentencePiece};
 * for Llama 2 the result equals llama.cpp's ggml-vocab-llama-spm.gguf key by key).
 *
 * <p>The rules follow llama.cpp's {@code convert_hf_to_gguf.py} / gguf-py {@code SpecialVocab}:
 * <ul>
 *   <li>byte-level BPE (ByteLevel decoder or pre-tokenizer, no byte_fallback) → {@code gpt2}: tokens in
 *       id order as the vocabulary spells them, added tokens CONTROL when special or when they look
 *       special ({@code <|…|>}, {@code <unused…>}, …) else USER_DEFINED, ids missing up to config.json's
 *       vocab_size as {@code [PADi]} UNUSED, merges as "a b" (a space inside a pair-form merge is written
 *       as U+0120, as gguf-py does);</li>
 *   <li>BPE with byte_fallback (SentencePiece converted to tokenizer.json: Llama 2, Mistral, Gemma) →
 *       {@code llama}: {@code <0xXX>} BYTE, the unk token UNKNOWN, added tokens as above with score
 *       −1000 (the rules of llama.cpp's SentencePiece path with tokenizer_config's added_tokens_decoder);</li>
 *   <li>WordPiece → {@code bert}; Unigram → {@code t5} (scores are the Unigram log-probabilities).</li>
 * </ul>
 *
 * <p>Deliberate differences from llama.cpp, each because llama.cpp's result would not tokenize like the
 * original:
 * <ul>
 *   <li><b>Scores of a {@code llama} vocabulary from tokenizer.json alone.</b> llama.cpp (LlamaHfVocab)
 *       writes −1000 for every token, which leaves its SentencePiece merge order to chance. llama.cpp's
 *       SPM tokenizer repeatedly merges the adjacent pair whose concatenation is the highest-scoring
 *       vocabulary token; tokenizers' BPE merges the pair of lowest merge rank. Giving every token that
 *       some merge produces the score −(lowest rank of a merge producing it) makes both orders agree
 *       (verified on the fixture tokenizers by round-trip tests). Tokens no merge produces (single
 *       characters) get scores below all of those, in id order; byte tokens and the unk token 0.</li>
 *   <li><b>add_bos_token / add_eos_token are always written.</b> llama.cpp writes them only when
 *       tokenizer_config.json or a TemplateProcessing post-processor says so, and otherwise falls back
 *       to a per-pre-tokenizer default (e.g. BOS for llama-bpe) that can contradict the HF tokenizer.
 *       Here the missing value is taken from what the tokenizer itself does ({@code tokenizer(text)}
 *       with and without special tokens).</li>
 *   <li><b>add_space_prefix is always written for {@code llama}</b>, from tokenizer_config's
 *       add_prefix_space or else from tokenizer.json (a Prepend("▁") normalizer or a Metaspace
 *       pre-tokenizer that prepends), because llama.cpp's default (true) is wrong for Gemma-style
 *       vocabularies whose converter class sets it explicitly.</li>
 * </ul>
 *
 * <p>{@code tokenizer.ggml.pre} for {@code gpt2}: first llama.cpp's own method (SHA-256 of the ids of
 * its check string, for the hashes listed in {@link PreTokenizerNames}), then the pre-tokenizer's split
 * regex (Llama 3 → llama-bpe, Qwen2 → qwen2, GPT-2 → gpt-2). An unrecognised byte-level BPE
 * pre-tokenizer is an error, as in llama.cpp, because the wrong name silently mis-tokenizes.
 */
public final class GgufVocabWriter {
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    /** Field names are not interned: a vocabulary object has 10^5 distinct keys, and interning them costs seconds. */
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build());
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");
    /** Special-token roles in gguf-py's order, with their GGUF key suffixes (sic "seperator"). */
    private static final String[][] ROLES = {
            {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"}, {"sep", "seperator_token_id"},
            {"pad", "padding_token_id"}, {"cls", "cls_token_id"}, {"mask", "mask_token_id"}};

    /** Everything written, exposed for tests and tools. Arrays are indexed by token id. */
    public record Vocabulary(String model, String pre, String[] tokens, int[] types, float[] scores, String[] merges,
                             Map<String, Integer> specialIds, Map<String, Boolean> addSpecial, Boolean addSpacePrefix,
                             Map<String, String> chatTemplates) {}

    private final Path dir;
    private final JsonNode root, config, modelConfig;

    private GgufVocabWriter(Path dir, JsonNode root, JsonNode config, JsonNode modelConfig) {
        this.dir = dir;
        this.root = root;
        this.config = config;
        this.modelConfig = modelConfig;
    }

    /** True when the directory holds a tokenizer.json or a SentencePiece tokenizer.model. */
    public static boolean hasTokenizer(Path hfDir) {
        return Files.isRegularFile(hfDir.resolve("tokenizer.json")) || Files.isRegularFile(hfDir.resolve("tokenizer.model"));
    }

    /**
     * Adds the tokenizer metadata of {@code hfDir} to {@code w}. Does nothing when the directory has no
     * tokenizer files; throws {@link FormatException} when a tokenizer file is malformed or unsupported.
     */
    public static void addTo(Path hfDir, GgufWriter w) {
        if (!hasTokenizer(hfDir)) return;
        write(read(hfDir), w);
    }

    /**
     * Reads and converts; the result can be inspected or written with {@link #write}. Like llama.cpp's
     * converter, a SentencePiece BPE tokenizer.model is preferred (its real piece scores and types) when
     * the directory has one and tokenizer.json is absent or SentencePiece-derived (byte_fallback BPE).
     */
    public static Vocabulary read(Path hfDir) {
        return read(hfDir, null);
    }

    /**
     * As {@link #read(Path)} for a tokenizer that goes with another model than the directory's own
     * config.json (e.g. random weights of a preset): {@code modelConfig} gives vocab_size and the
     * special ids instead.
     */
    public static Vocabulary read(Path hfDir, JsonNode modelConfig) {
        Path tj = hfDir.resolve("tokenizer.json"), spm = hfDir.resolve("tokenizer.model");
        JsonNode root = null;
        if (Files.isRegularFile(tj)) {
            root = readJson(tj);
            if (!root.isObject() || !root.path("model").isObject()) throw new FormatException(tj + ": not a tokenizer.json (no \"model\" object)");
        } else if (!Files.isRegularFile(spm)) {
            throw new FormatException(hfDir + ": no tokenizer.json or tokenizer.model");
        }
        JsonNode cfg = Files.isRegularFile(hfDir.resolve("tokenizer_config.json")) ? readJson(hfDir.resolve("tokenizer_config.json")) : JSON.createObjectNode();
        JsonNode mc = modelConfig != null ? modelConfig
                : Files.isRegularFile(hfDir.resolve("config.json")) ? readJson(hfDir.resolve("config.json")) : JSON.createObjectNode();
        try {
            SentencePieceModel sp = null;
            boolean spDerivedJson = root == null || root.path("model").path("byte_fallback").asBoolean(false);
            if (Files.isRegularFile(spm) && spDerivedJson) {
                sp = SentencePieceModel.read(spm);
                if (!sp.bpe()) {
                    if (root == null) throw new FormatException(spm + ": only BPE SentencePiece models can be exported without a tokenizer.json");
                    sp = null;
                }
            }
            GgufVocabWriter g = new GgufVocabWriter(hfDir, root == null ? JSON.createObjectNode() : root, cfg, mc);
            return sp != null ? g.buildFromSentencePiece(sp, root != null) : g.build();
        } catch (FormatException e) {
            throw e.getMessage().startsWith(hfDir.toString()) ? e : new FormatException(hfDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * llama.cpp's SentencePiece path (_create_vocab_sentencepiece): pieces, scores and types from the
     * model (user-defined pieces count as NORMAL there), then added_tokens.json (USER_DEFINED, −1000),
     * then tokenizer_config.json's added_tokens_decoder (CONTROL/USER_DEFINED, −1000), padded with
     * [PADi] (−10000, UNUSED) to config.json's vocab_size.
     */
    private Vocabulary buildFromSentencePiece(SentencePieceModel sp, boolean haveJson) {
        int n = sp.pieces().length;
        JsonNode vs = modelConfig.path("vocab_size");
        if (!vs.canConvertToInt()) vs = modelConfig.path("text_config").path("vocab_size");
        if (vs.canConvertToInt()) n = vs.asInt();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = "[PAD" + i + "]";
            scores[i] = -10000f;
            types[i] = UNUSED;
        }
        for (int i = 0; i < Math.min(n, sp.pieces().length); i++) {
            tokens[i] = sp.pieces()[i];
            scores[i] = sp.scores()[i];
            int t = sp.types()[i];
            types[i] = t == UNKNOWN || t == CONTROL || t == UNUSED || t == BYTE ? t : NORMAL;
        }
        Path addedJson = dir.resolve("added_tokens.json");
        if (Files.isRegularFile(addedJson)) {
            for (var it = readJson(addedJson).properties().iterator(); it.hasNext(); ) {
                var e = it.next();
                int id = e.getValue().asInt(-1);
                if (id < 0 || id >= n) continue;
                tokens[id] = e.getKey();
                scores[id] = -1000f;
                types[id] = USER_DEFINED;
            }
        }
        for (var it = config.path("added_tokens_decoder").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw new FormatException("tokenizer_config.json: added_tokens_decoder key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0 || id >= n) continue;
            String t = e.getValue().path("content").asText("");
            if (e.getValue().path("special").asBoolean(false) || looksSpecial(t)) types[id] = CONTROL;
            else {
                t = t.replace('\u2581', ' ');
                types[id] = USER_DEFINED;
            }
            scores[id] = -1000f;
            tokens[id] = t;
        }
        List<Added> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            boolean special = t.path("special").asBoolean(false);
            added.add(new Added(t.path("id").asInt(), t.path("content").asText(), special, t.path("normalized").asBoolean(!special)));
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<String, Boolean> add = new LinkedHashMap<>();
        specialTokens(added, n, ids, add);
        if (!haveJson) {
            // Without tokenizer.json, gguf-py finds no token strings to resolve; the model's own ids are what
            // the SentencePiece runtime (and llama.cpp's older files) use.
            if (!ids.containsKey("unk") && sp.unkId() >= 0 && sp.unkId() < n) ids.put("unk", sp.unkId());
            if (!ids.containsKey("bos") && sp.bosId() >= 0 && sp.bosId() < n) ids.put("bos", sp.bosId());
            if (!ids.containsKey("eos") && sp.eosId() >= 0 && sp.eosId() < n) ids.put("eos", sp.eosId());
        }
        fillAddFlagsFromBehaviour(ids, add);
        Boolean spacePrefix = config.path("add_prefix_space").isBoolean() ? config.get("add_prefix_space").asBoolean() : sp.addDummyPrefix();
        return new Vocabulary("llama", "default", tokens, types, scores, null, ids, add, spacePrefix, chatTemplates());
    }

    public static void write(Vocabulary v, GgufWriter w) {
        w.string("tokenizer.ggml.model", v.model());
        if (v.pre() != null) w.string("tokenizer.ggml.pre", v.pre());
        w.strings("tokenizer.ggml.tokens", v.tokens());
        if (v.scores() != null) w.floats("tokenizer.ggml.scores", v.scores());
        w.ints("tokenizer.ggml.token_type", v.types());
        if (v.merges() != null) w.strings("tokenizer.ggml.merges", v.merges());
        for (String[] r : ROLES) {
            Integer id = v.specialIds().get(r[0]);
            if (id != null) w.u32("tokenizer.ggml." + r[1], id);
        }
        // gguf-py has keys (and llama.cpp readers) only for these; it skips other add_<role>_token flags.
        for (String role : List.of("bos", "eos", "sep")) {
            Boolean b = v.addSpecial().get(role);
            if (b != null) w.bool("tokenizer.ggml.add_" + role + "_token", b);
        }
        if (v.addSpacePrefix() != null) w.bool("tokenizer.ggml.add_space_prefix", v.addSpacePrefix());
        List<String> named = new ArrayList<>();
        for (var e : v.chatTemplates().entrySet()) {
            if (e.getKey().equals("default")) continue;
            w.string("tokenizer.chat_template." + e.getKey(), e.getValue());
            named.add(e.getKey());
        }
        if (!named.isEmpty()) w.strings("tokenizer.chat_templates", named.toArray(new String[0]));
        String def = v.chatTemplates().get("default");
        if (def != null) w.string("tokenizer.chat_template", def);
    }

    private static JsonNode readJson(Path p) {
        try {
            return JSON.readTree(jllm.formats.io.InputFile.requireUtf8(jllm.formats.io.InputFile.bytes(p, null), p.toString()));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(p + ": " + jllm.formats.io.InputFile.jsonError(e), e);
        } catch (IOException e) {
            throw new FormatException(p + ": cannot read: " + jllm.formats.io.OutputFile.describe(e), e);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private record Added(int id, String content, boolean special, boolean normalized) {}

    private Vocabulary build() {
        JsonNode m = root.get("model");
        String type = m.path("type").asText("");
        if (type.isEmpty()) type = m.has("merges") ? "BPE" : m.path("vocab").isArray() ? "Unigram" : m.has("vocab") ? "WordPiece" : "";
        Map<Integer, String> base = new HashMap<>();
        double[] unigramScores = null;
        switch (type) {
            case "BPE", "WordPiece" -> {
                JsonNode v = m.get("vocab");
                if (v == null || !v.isObject()) throw new FormatException("tokenizer.json: model.vocab must be an object of token -> id");
                for (var it = v.properties().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) throw new FormatException("tokenizer.json: bad id for token '" + e.getKey() + "'");
                    String prev = base.put(e.getValue().asInt(), e.getKey());
                    if (prev != null) throw new FormatException("tokenizer.json: id " + e.getValue().asInt() + " used by both '" + prev + "' and '" + e.getKey() + "'");
                }
            }
            case "Unigram" -> {
                JsonNode v = m.get("vocab");
                if (v == null || !v.isArray()) throw new FormatException("tokenizer.json: Unigram model.vocab must be an array of [piece, score]");
                unigramScores = new double[v.size()];
                for (int i = 0; i < v.size(); i++) {
                    JsonNode e = v.get(i);
                    if (!e.isArray() || e.size() != 2) throw new FormatException("tokenizer.json: Unigram vocab entry #" + i + " is not [piece, score]");
                    base.put(i, e.get(0).asText());
                    unigramScores[i] = e.get(1).asDouble();
                }
            }
            default -> throw new FormatException("tokenizer.json: unsupported model type '" + type + "' (BPE, WordPiece and Unigram can be exported)");
        }
        List<Added> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (!t.has("id") || !t.has("content")) throw new FormatException("tokenizer.json: added token without id/content: " + t);
            boolean special = t.path("special").asBoolean(false);
            added.add(new Added(t.get("id").asInt(), t.get("content").asText(), special, t.path("normalized").asBoolean(!special)));
        }

        boolean byteFallback = m.path("byte_fallback").asBoolean(false);
        String model = switch (type) {
            case "BPE" -> byteFallback ? "llama" : isByteLevel() ? "gpt2" : null;
            case "WordPiece" -> "bert";
            default -> "t5";
        };
        if (model == null) throw new FormatException("tokenizer.json: a BPE model that is neither byte-level nor byte_fallback (SentencePiece) is not supported by llama.cpp");

        int maxId = -1;
        for (int id : base.keySet()) maxId = Math.max(maxId, id);
        for (Added a : added) maxId = Math.max(maxId, a.id());
        int n = maxId + 1;
        JsonNode vs = modelConfig.path("vocab_size");
        if (!vs.canConvertToInt()) vs = modelConfig.path("text_config").path("vocab_size");
        if (vs.canConvertToInt()) {
            // The embedding has vocab_size rows; llama.cpp requires exactly that many tokens (padding
            // with [PADi]). A token beyond it could never be embedded.
            if (vs.asInt() < n) throw new FormatException("tokenizer has ids up to " + maxId + " but config.json vocab_size is " + vs.asInt());
            n = vs.asInt();
        }

        String[] tokens = new String[n];
        int[] types = new int[n];
        float[] scores = model.equals("gpt2") || model.equals("bert") ? null : new float[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = "[PAD" + i + "]";
            types[i] = UNUSED;
            if (scores != null) scores[i] = -10000f;
        }
        String unkToken = m.path("unk_token").isTextual() ? m.get("unk_token").asText() : null;
        int unigramUnk = m.path("unk_id").canConvertToInt() ? m.get("unk_id").asInt() : -1;
        for (var e : base.entrySet()) {
            int id = e.getKey();
            String t = e.getValue();
            tokens[id] = t;
            types[id] = NORMAL;
            if (model.equals("llama")) {
                if (BYTE_TOKEN.matcher(t).matches()) { types[id] = BYTE; scores[id] = 0f; }
                else if (t.equals(unkToken)) { types[id] = UNKNOWN; scores[id] = 0f; }
            } else if (model.equals("t5")) {
                scores[id] = (float) unigramScores[id];
                if (id == unigramUnk) types[id] = UNKNOWN;
                else if (m.path("byte_fallback").asBoolean(false) && BYTE_TOKEN.matcher(t).matches()) types[id] = BYTE;
            }
        }
        if (model.equals("llama")) scoreByMerges(m, base, tokens, types, scores);
        if (model.equals("bert")) {
            // llama.cpp's WordPiece works on a "phantom space" vocabulary (its converter rewrites it so):
            // word-initial pieces carry "▁", continuation pieces lose their "##", [BRACKETED] specials stay.
            String prefix = m.path("continuing_subword_prefix").asText("##");
            for (var e : base.entrySet()) {
                String t = e.getValue();
                if (t.startsWith("[") && t.endsWith("]")) continue;
                tokens[e.getKey()] = t.startsWith(prefix) && !prefix.isEmpty() ? t.substring(prefix.length()) : "\u2581" + t;
            }
        }
        for (Added a : added) {
            String t = a.content();
            int ty;
            if (a.special() || looksSpecial(t)) ty = CONTROL;
            else {
                // llama.cpp matches user-defined tokens in the raw text, so "▁" (a space after the
                // SentencePiece normalizer) is written as the space it stands for, as gguf-py does.
                t = t.replace('\u2581', ' ');
                ty = USER_DEFINED;
            }
            tokens[a.id()] = t;
            types[a.id()] = ty;
            if (scores != null) scores[a.id()] = model.equals("t5") && base.containsKey(a.id()) ? scores[a.id()] : -1000f;
        }

        String[] merges = model.equals("gpt2") ? merges(m) : null;
        String pre = switch (model) {
            case "gpt2" -> preName();
            case "llama", "bert" -> "default";
            default -> null;
        };

        Map<String, Integer> ids = new LinkedHashMap<>();
        Map<String, Boolean> add = new LinkedHashMap<>();
        specialTokens(added, n, ids, add);
        fillAddFlagsFromBehaviour(ids, add);

        Boolean spacePrefix = null;
        if (config.path("add_prefix_space").isBoolean()) spacePrefix = config.get("add_prefix_space").asBoolean();
        else if (model.equals("llama")) spacePrefix = prependsSpace();

        return new Vocabulary(model, pre, tokens, types, scores, merges, ids, add, spacePrefix, chatTemplates());
    }

    /** A byte-level BPE: tokens.json's ByteLevel pre-tokenizer or decoder (as gguf-py's BpeVocab checks). */
    private boolean isByteLevel() {
        return root.path("decoder").path("type").asText("").equals("ByteLevel") || containsType(root.path("pre_tokenizer"), "ByteLevel");
    }

    private static boolean containsType(JsonNode n, String type) {
        if (n == null || n.isNull() || n.isMissingNode()) return false;
        if (type.equals(n.path("type").asText())) return true;
        for (JsonNode c : n.path("pretokenizers")) if (containsType(c, type)) return true;
        for (JsonNode c : n.path("normalizers")) if (containsType(c, type)) return true;
        return false;
    }

    /** Tokens that llama.cpp's converter treats as control tokens although they are not marked special. */
    static boolean looksSpecial(String t) {
        return t.equals("<pad>") || t.equals("<mask>") || t.equals("<2mass>") || t.equals("[@BOS@]")
                || (t.startsWith("<|") && t.endsWith("|>")) || (t.startsWith("<\uFF5C") && t.endsWith("\uFF5C>"))
                || (t.startsWith("<unused") && t.endsWith(">"));
    }

    private static String[] mergePair(JsonNode x, int i) {
        if (x.isTextual()) {
            String s = x.asText();
            int sp = s.indexOf(' ', 1);
            if (sp < 0) throw new FormatException("tokenizer.json: merge #" + i + " '" + s + "' is not 'a b'");
            return new String[] {s.substring(0, sp), s.substring(sp + 1)};
        }
        if (x.isArray() && x.size() == 2 && x.get(0).isTextual() && x.get(1).isTextual()) return new String[] {x.get(0).asText(), x.get(1).asText()};
        throw new FormatException("tokenizer.json: merge #" + i + " is neither 'a b' nor [a, b]");
    }

    /** Merges as GGUF stores them: "a b"; a space inside a part (pair form only) becomes U+0120 as in gguf-py. */
    private static String[] merges(JsonNode m) {
        JsonNode mj = m.get("merges");
        if (mj == null || !mj.isArray()) throw new FormatException("tokenizer.json: BPE model without a merges array");
        String[] out = new String[mj.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = mj.get(i);
            if (x.isTextual()) { mergePair(x, i); out[i] = x.asText(); continue; }
            String[] p = mergePair(x, i);
            out[i] = p[0].replace(' ', '\u0120') + " " + p[1].replace(' ', '\u0120');
        }
        return out;
    }

    /** Scores for a SentencePiece-style BPE vocabulary from its merge ranks (see the class comment). */
    private static void scoreByMerges(JsonNode m, Map<Integer, String> base, String[] tokens, int[] types, float[] scores) {
        JsonNode mj = m.get("merges");
        if (mj == null || !mj.isArray()) throw new FormatException("tokenizer.json: BPE model without a merges array");
        Map<String, Integer> id = new HashMap<>(base.size() * 2);
        for (var e : base.entrySet()) id.put(e.getValue(), e.getKey());
        int[] firstRank = new int[tokens.length];
        Arrays.fill(firstRank, -1);
        int nm = mj.size();
        for (int r = 0; r < nm; r++) {
            String[] p = mergePair(mj.get(r), r);
            Integer t = id.get(p[0] + p[1]);
            if (t == null) continue; // tokenizers ignores merges whose result is not in the vocabulary
            if (firstRank[t] < 0) firstRank[t] = r;
        }
        for (var e : base.entrySet()) {
            int i = e.getKey();
            if (types[i] != NORMAL) continue;
            // Exact integers in float up to 2^24 ranks: enough for every known vocabulary (Gemma 3: 514,906 merges).
            scores[i] = firstRank[i] >= 0 ? -firstRank[i] : -(float) nm - i;
        }
    }

    /** Whether the SentencePiece front end adds "▁" before the text (tokenizers' Prepend or Metaspace). */
    private boolean prependsSpace() {
        if (containsPrepend(root.path("normalizer"))) return true;
        return metaspacePrepends(root.path("pre_tokenizer"));
    }

    private static boolean containsPrepend(JsonNode n) {
        if ("Prepend".equals(n.path("type").asText()) && "\u2581".equals(n.path("prepend").asText())) return true;
        for (JsonNode c : n.path("normalizers")) if (containsPrepend(c)) return true;
        return false;
    }

    private static boolean metaspacePrepends(JsonNode n) {
        if ("Metaspace".equals(n.path("type").asText())) {
            if (n.has("prepend_scheme")) return !n.get("prepend_scheme").asText().equals("never");
            return n.path("add_prefix_space").asBoolean(true);
        }
        for (JsonNode c : n.path("pretokenizers")) if (metaspacePrepends(c)) return true;
        return false;
    }

    private static String tokenContent(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
        return null;
    }

    /**
     * Special token ids and add_*_token flags as gguf-py's SpecialVocab finds them: the role's token in
     * tokenizer_config.json looked up among tokenizer.json's added tokens, else config.json's
     * {@code <role>_token_id} (an int; the first source that names a role wins); add flags from a
     * TemplateProcessing post-processor, overridden by tokenizer_config.json's add_<role>_token.
     */
    private void specialTokens(List<Added> added, int n, Map<String, Integer> ids, Map<String, Boolean> add) {
        Map<String, String> content = new HashMap<>();
        for (String[] r : ROLES) {
            String c = tokenContent(config.get(r[0] + "_token"));
            if (c != null) content.put(r[0], c);
        }
        if (!content.containsKey("bos") && content.containsKey("cls")) content.put("bos", content.get("cls"));
        if (!content.containsKey("eos") && content.containsKey("sep")) content.put("eos", content.get("sep"));

        JsonNode pp = root.path("post_processor");
        List<JsonNode> procs = new ArrayList<>();
        if (pp.path("type").asText().equals("Sequence")) pp.path("processors").forEach(procs::add);
        else if (pp.isObject()) procs.add(pp);
        for (JsonNode p : procs) {
            String t = p.path("type").asText();
            if (t.equals("RobertaProcessing") || t.equals("BertProcessing")) {
                add.put("bos", true);
                add.put("eos", true);
                add.put("sep", true);
            } else if (t.equals("TemplateProcessing")) {
                JsonNode single = p.path("single");
                if (single.size() > 1) {
                    String first = single.get(0).path("SpecialToken").path("id").asText(null);
                    if (first != null) add.put("bos", first.equals(content.get("bos")) || first.equals(content.get("cls")));
                    String last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                    if (last != null) add.put("eos", last.equals(content.get("eos")));
                }
            }
        }
        for (String[] r : ROLES) {
            JsonNode a = config.get("add_" + r[0] + "_token");
            if (a != null && a.isBoolean()) add.put(r[0], a.asBoolean());
            String c = content.get(r[0]);
            if (c == null) continue;
            for (Added t : added) {
                if (t.content().equals(c)) { if (t.id() < n) ids.put(r[0], t.id()); break; }
            }
        }
        for (String[] r : ROLES) {
            if (ids.containsKey(r[0])) continue;
            JsonNode v = modelConfig.get(r[0] + "_token_id");
            if (v == null && modelConfig.has("text_config")) v = modelConfig.get("text_config").get(r[0] + "_token_id");
            if (v != null && v.isInt() && v.asInt() >= 0 && v.asInt() < n) ids.put(r[0], v.asInt());
        }
    }

    /**
     * add_bos/add_eos where the files do not say: what the HF tokenizer does for {@code tokenizer(text)}
     * (a BOS/EOS id before/after the plain encoding), so that llama.cpp's per-model default cannot differ.
     */
    private void fillAddFlagsFromBehaviour(Map<String, Integer> ids, Map<String, Boolean> add) {
        if (add.containsKey("bos") && add.containsKey("eos")) return;
        Tokenizer tok = hfTokenizer();
        int[] plain = tok.encode("a", false), special = tok.encode("a", true);
        boolean bos = false, eos = false;
        int extra = special.length - plain.length;
        if (extra > 0) {
            Integer b = ids.get("bos"), e = ids.get("eos");
            bos = b != null && special[0] == b;
            eos = e != null && special[special.length - 1] == e && (!bos || extra > 1);
        }
        add.putIfAbsent("bos", bos);
        add.putIfAbsent("eos", eos);
    }

    private Tokenizer hfTokenizer;

    private Tokenizer hfTokenizer() {
        if (hfTokenizer == null) {
            hfTokenizer = root.has("model") ? HfJsonLoader.fromJson(dir.resolve("tokenizer.json").toString(), root, config)
                    : Tokenizer.load(dir.resolve("tokenizer.model"));
        }
        return hfTokenizer;
    }

    /** llama.cpp's pre-tokenizer name for a byte-level BPE vocabulary. */
    private String preName() {
        // The split regex is checked first: it is exact, while the fingerprint also depends on the
        // post-processor (a Llama 3 tokenizer.json without its BOS template hashes as "smaug-bpe",
        // which llama.cpp runs without ignore_merges and so would tokenize some words differently).
        List<String> regexes = new ArrayList<>();
        collectSplitRegexes(root.path("pre_tokenizer"), regexes);
        boolean ignoreMerges = root.path("model").path("ignore_merges").asBoolean(false);
        if (regexes.size() == 1) {
            String re = regexes.get(0);
            if (re.equals(KnownPatterns.LLAMA3)) return ignoreMerges ? "llama-bpe" : "smaug-bpe";
            if (re.equals(KnownPatterns.QWEN2) && !ignoreMerges) return "qwen2";
            if (re.equals(KnownPatterns.GPT2) && !ignoreMerges) return "gpt-2";
        }
        if (regexes.isEmpty() && byteLevelUsesGpt2Regex(root.path("pre_tokenizer")) && !ignoreMerges) return "gpt-2";
        String byHash = PreTokenizerNames.byHash(checkHash(hfTokenizer()));
        if (byHash != null) return byHash;
        throw new FormatException("tokenizer.json: byte-level BPE pre-tokenizer not recognised (llama.cpp needs its name in "
                + "tokenizer.ggml.pre; split regexes " + regexes + ", check hash " + checkHash(hfTokenizer()) + ")");
    }

    private static void collectSplitRegexes(JsonNode n, List<String> out) {
        if ("Split".equals(n.path("type").asText()) && n.path("pattern").has("Regex")) out.add(n.path("pattern").get("Regex").asText());
        for (JsonNode c : n.path("pretokenizers")) collectSplitRegexes(c, out);
    }

    private static boolean byteLevelUsesGpt2Regex(JsonNode n) {
        if ("ByteLevel".equals(n.path("type").asText())) return n.path("use_regex").asBoolean(true);
        for (JsonNode c : n.path("pretokenizers")) if (byteLevelUsesGpt2Regex(c)) return true;
        return false;
    }

    /**
     * llama.cpp's fingerprint of a BPE pre-tokenizer: SHA-256 of Python's {@code str()} of the ids
     * {@code tokenizer.encode(CHECK_TEXT)} gives (special tokens added as the tokenizer does by default).
     */
    public static String checkHash(Tokenizer tok) {
        int[] ids = tok.encode(PreTokenizerNames.CHECK_TEXT, true);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) b.append(i == 0 ? "" : ", ").append(ids[i]);
        b.append(']');
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Chat templates as gguf-py picks them: tokenizer_config.json's chat_template (a string, or a list of
     * {name, template}), else chat_template.jinja (plus additional_chat_templates/*.jinja), else
     * chat_template.json. Names keep only ASCII letters and digits (others become '_'), as gguf-py does.
     */
    private Map<String, String> chatTemplates() {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode ct = config.get("chat_template");
        if (ct == null || ct.isNull()) {
            Path jinja = dir.resolve("chat_template.jinja"), json = dir.resolve("chat_template.json");
            if (Files.isRegularFile(jinja)) {
                out.put("default", readString(jinja));
                Path more = dir.resolve("additional_chat_templates");
                if (Files.isDirectory(more)) {
                    try (Stream<Path> s = Files.list(more)) {
                        for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".jinja")).sorted().toList()) {
                            String name = p.getFileName().toString();
                            out.put(cleanName(name.substring(0, name.length() - ".jinja".length())), readString(p));
                        }
                    } catch (IOException e) {
                        throw new FormatException(more + ": cannot list: " + e.getMessage(), e);
                    }
                }
                return out;
            }
            if (Files.isRegularFile(json)) ct = readJson(json).get("chat_template");
        }
        if (ct == null || ct.isNull()) return out;
        if (ct.isTextual()) {
            out.put("default", ct.asText());
        } else if (ct.isArray()) {
            for (JsonNode t : ct) {
                String name = cleanName(t.path("name").asText(""));
                if (!name.isEmpty() && t.path("template").isTextual()) out.put(name, t.get("template").asText());
            }
        } else {
            throw new FormatException("chat_template must be a string or a list of {name, template}");
        }
        return out;
    }

    private static String cleanName(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append((c < 128 && Character.isLetterOrDigit(c)) ? c : '_');
        return b.toString();
    }

    private static String readString(Path p) {
        return jllm.formats.io.InputFile.text(p, null);
    }
}
