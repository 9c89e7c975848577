package jllm.tokenizer.load;

import com.fasterxml.jackson.databind.JsonNode;
import jllm.formats.FormatException;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.pretokenizer.KnownPatterns;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes a Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) as GGUF
 * {@code tokenizer.ggml.*} metadata that llama.cpp (and {@link GgufLoader}) read back: byte-level
 * BPE becomes model "gpt2" with the matching {@code tokenizer.ggml.pre}; SentencePiece-style BPE
 * (byte fallback, "▁" spaces) becomes model "llama" with scores that order merges as the merge
 * list does. Tokenizers that GGUF cannot express exactly are refused with a FormatException.
 */
public final class GgufVocabExport {
    private GgufVocabExport() {}

    public static void write(Path hfDir, GgufWriter w) {
        Path tj = hfDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tj)) throw new FormatException(hfDir + ": no tokenizer.json to convert");
        JsonNode root = HfJsonLoader.readJson(tj);
        Path cfgPath = hfDir.resolve("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgPath) ? HfJsonLoader.readJson(cfgPath) : HfJsonLoader.readJson(tj).path("__none__");
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE"))) {
            throw new FormatException(tj + ": only BPE tokenizers can be written to GGUF yet (model type " + model.path("type").asText() + ")");
        }
        Map<String, Integer> ids = new HashMap<>();
        int n = 0;
        for (var it = model.path("vocab").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            ids.put(e.getKey(), e.getValue().asInt());
            n = Math.max(n, e.getValue().asInt() + 1);
        }
        for (JsonNode t : root.path("added_tokens")) n = Math.max(n, t.path("id").asInt() + 1);
        String[] tokens = new String[n];
        int[] types = new int[n];
        for (var e : ids.entrySet()) { tokens[e.getValue()] = e.getKey(); types[e.getValue()] = 1; }
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            tokens[id] = t.path("content").asText();
            types[id] = t.path("special").asBoolean() ? 3 : 4;
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) { tokens[i] = "[PAD" + i + "]"; types[i] = 5; }
        }
        String[] merges = new String[model.path("merges").size()];
        for (int i = 0; i < merges.length; i++) {
            JsonNode m = model.path("merges").get(i);
            merges[i] = m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText();
        }
        String preJson = root.path("pre_tokenizer").toString();
        boolean byteLevel = preJson.contains("\"ByteLevel\"");
        if (byteLevel) {
            String pre;
            if (preJson.contains(jsonString(KnownPatterns.LLAMA3))) pre = "llama-bpe";
            else if (preJson.contains(jsonString(KnownPatterns.QWEN2))) pre = "qwen2";
            else if (preJson.contains("\"use_regex\":true") && !preJson.contains("\"Split\"")) pre = "gpt-2";
            else throw new FormatException(tj + ": its pre-tokenizer has no llama.cpp equivalent (tokenizer.ggml.pre)");
            if ((pre.equals("llama-bpe")) != model.path("ignore_merges").asBoolean(false)) {
                throw new FormatException(tj + ": ignore_merges does not match what llama.cpp assumes for '" + pre + "'");
            }
            if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()
                    && !root.path("normalizer").path("type").asText().equals("NFC")) {
                throw new FormatException(tj + ": its normalizer has no llama.cpp equivalent");
            }
            w.string("tokenizer.ggml.model", "gpt2").string("tokenizer.ggml.pre", pre);
            w.strings("tokenizer.ggml.tokens", tokens).ints("tokenizer.ggml.token_type", types).strings("tokenizer.ggml.merges", merges);
        } else if (model.path("byte_fallback").asBoolean(false)) {
            // SentencePiece merges by score: give each merged token the (negated) rank of the first
            // merge that produces it, so higher score = earlier merge, as in the merge list.
            float[] scores = new float[n];
            java.util.Arrays.fill(scores, 0f);
            boolean[] set = new boolean[n];
            for (int r = 0; r < merges.length; r++) {
                int sp = merges[r].indexOf(' ', 1);
                Integer id = ids.get(merges[r].substring(0, sp) + merges[r].substring(sp + 1));
                if (id != null && !set[id]) { scores[id] = -r; set[id] = true; }
            }
            for (int i = 0; i < n; i++) {
                if (tokens[i].length() == 6 && tokens[i].startsWith("<0x")) types[i] = 6;
                if (!set[i] && types[i] == 1) scores[i] = -1e9f;
            }
            String norm = root.path("normalizer").toString();
            boolean prefix = norm.contains("\"Prepend\"");
            w.string("tokenizer.ggml.model", "llama").string("tokenizer.ggml.pre", "default");
            w.strings("tokenizer.ggml.tokens", tokens).floats("tokenizer.ggml.scores", scores).ints("tokenizer.ggml.token_type", types);
            w.bool("tokenizer.ggml.add_space_prefix", prefix);
            String unk = model.path("unk_token").asText(null);
            if (unk != null && ids.containsKey(unk)) w.u32("tokenizer.ggml.unknown_token_id", ids.get(unk));
        } else {
            throw new FormatException(tj + ": only byte-level or byte-fallback BPE can be written to GGUF yet");
        }
        Map<String, Integer> all = new HashMap<>(ids);
        for (JsonNode t : root.path("added_tokens")) all.put(t.path("content").asText(), t.path("id").asInt());
        String bos = tokenString(cfg.get("bos_token")), eos = tokenString(cfg.get("eos_token")), pad = tokenString(cfg.get("pad_token"));
        if (bos != null && all.containsKey(bos)) w.u32("tokenizer.ggml.bos_token_id", all.get(bos));
        if (eos != null && all.containsKey(eos)) w.u32("tokenizer.ggml.eos_token_id", all.get(eos));
        if (pad != null && all.containsKey(pad)) w.u32("tokenizer.ggml.padding_token_id", all.get(pad));
        String post = root.path("post_processor").toString();
        w.bool("tokenizer.ggml.add_bos_token", bos != null && post.contains("\"TemplateProcessing\"") && post.contains(jsonString(bos)));
        w.bool("tokenizer.ggml.add_eos_token", eos != null && post.contains("\"TemplateProcessing\"") && post.contains("\"SpecialToken\":{\"id\":" + jsonString(eos)) && cfg.path("add_eos_token").asBoolean(false));
        JsonNode ct = cfg.get("chat_template");
        if (ct != null && ct.isTextual()) w.string("tokenizer.chat_template", ct.asText());
    }

    private static String jsonString(String s) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String tokenString(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        return n.has("content") ? n.get("content").asText() : null;
    }
}
