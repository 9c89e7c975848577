package jllm.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorStore;
import jllm.formats.safetensors.ShardedSafetensors;
import jllm.model.Architectures;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.model.gguf.GgufConfig;
import jllm.tokenizer.Tokenizer;

/**
 * Everything a model release ships, opened side by side without building the model: an HF
 * directory's config.json, generation_config.json, tokenizer_config.json, tokenizer and weights, or
 * a GGUF file's metadata, vocabulary and tensors. Parts that are missing are null; a part that fails
 * to load is recorded (the doctor reports it) instead of ending the run.
 */
public final class ModelFiles implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Path path;
    public final boolean gguf;
    public final Config config;
    /** The architecture's reading of config.json (null when it cannot be read). */
    public final Spec spec;
    public final String specError;
    public final JsonNode generationConfig, tokenizerConfig;
    public final Tokenizer tokenizer;
    public final String tokenizerError;
    /** Tensors under their names in the file (HF names, or GGUF names for a GGUF). */
    public final TensorStore store;
    public final String embedName, lmHeadName;
    public final GgufFile ggufFile;

    private ModelFiles(Path path, boolean gguf, Config config, Spec spec, String specError, JsonNode gen, JsonNode tokCfg, Tokenizer tok, String tokErr,
                       TensorStore store, String embedName, String lmHeadName, GgufFile ggufFile) {
        this.path = path;
        this.gguf = gguf;
        this.config = config;
        this.spec = spec;
        this.specError = specError;
        this.generationConfig = gen;
        this.tokenizerConfig = tokCfg;
        this.tokenizer = tok;
        this.tokenizerError = tokErr;
        this.store = store;
        this.embedName = embedName;
        this.lmHeadName = lmHeadName;
        this.ggufFile = ggufFile;
    }

    public static ModelFiles open(Path path) {
        if (!Files.exists(path)) throw new FormatException(path + ": no such file or directory");
        if (Files.isDirectory(path)) return openHf(path);
        if (GgufFile.isGguf(path)) return openGguf(path);
        if (path.getFileName().toString().equals("config.json")) return openHf(path.toAbsolutePath().getParent());
        throw new FormatException(path + ": not a model the doctor reads (expected an HF directory with config.json, or a .gguf file)");
    }

    private static ModelFiles openHf(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.isRegularFile(cfg)) throw new FormatException(dir + ": no config.json in the model directory");
        Config c = Config.read(cfg);
        SpecRead sr = SpecRead.of(c);
        Spec spec = sr.spec();
        String specError = sr.error();
        JsonNode gen = readJson(dir.resolve("generation_config.json"));
        JsonNode tokCfg = readJson(dir.resolve("tokenizer_config.json"));
        Tokenizer tok = null;
        String tokErr = null;
        if (Files.isRegularFile(dir.resolve("tokenizer.json")) || Files.isRegularFile(dir.resolve("tokenizer.model"))) {
            try {
                tok = Tokenizer.load(dir);
            } catch (RuntimeException e) {
                tokErr = e.getMessage();
            }
        }
        TensorStore st = ShardedSafetensors.openDirectory(dir);
        String embed = spec != null ? spec.names.embed : "model.embed_tokens.weight";
        String head = spec != null ? spec.names.lmHead : "lm_head.weight";
        return new ModelFiles(dir, false, c, spec, specError, gen, tokCfg, tok, tokErr, st, embed, head, null);
    }

    private static ModelFiles openGguf(Path file) {
        GgufFile f = GgufFile.openManaged(file);
        Config c = new Config(GgufConfig.toHf(f), file.toString());
        SpecRead sr = SpecRead.of(c);
        Spec spec = sr.spec();
        String specError = sr.error();
        Tokenizer tok = null;
        String tokErr = null;
        if (f.has("tokenizer.ggml.tokens")) {
            try {
                tok = Tokenizer.load(file);
            } catch (RuntimeException e) {
                tokErr = e.getMessage();
            }
        }
        return new ModelFiles(file, true, c, spec, specError, null, null, tok, tokErr, new GgufTensorStore(f), "token_embd.weight", "output.weight", f);
    }

    /** The architecture's reading of a config, or why it failed (reported by lint, not thrown). */
    private record SpecRead(Spec spec, String error) {
        static SpecRead of(Config c) {
            try {
                return new SpecRead(Architectures.forConfig(c).spec(c), null);
            } catch (RuntimeException e) {
                return new SpecRead(null, e.getMessage());
            }
        }
    }

    private static JsonNode readJson(Path p) {
        if (!Files.isRegularFile(p)) return null;
        try {
            JsonNode n = JSON.readTree(p.toFile());
            if (n == null || !n.isObject()) throw new FormatException(p + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new FormatException(p + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public String modelType() { return config.str("model_type", ""); }

    /** The path of a file beside the model (HF directory only), or null. */
    public Path sibling(String name) {
        if (gguf) return null;
        Path p = path.resolve(name);
        return Files.isRegularFile(p) ? p : null;
    }

    /** Ids in a JSON field that may be an int, a list of ints or null. */
    static List<Integer> ids(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (n.isArray()) n.forEach(e -> { if (e.canConvertToInt()) out.add(e.asInt()); });
        else if (n.canConvertToInt()) out.add(n.asInt());
        return out;
    }

    /**
     * The ids generation stops at: generation_config.json's {@code eos_token_id} when it has one
     * (transformers' generate reads that file first), else config.json's; for a GGUF the eos, eot and
     * eom ids of its metadata.
     */
    public Set<Integer> generationEos() {
        Set<Integer> s = new LinkedHashSet<>();
        if (gguf) {
            for (String k : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"))
                if (ggufFile.has(k)) s.add((int) ggufFile.getLong(k, -1));
            return s;
        }
        if (generationConfig != null && generationConfig.has("eos_token_id") && !generationConfig.get("eos_token_id").isNull())
            s.addAll(ids(generationConfig.get("eos_token_id")));
        else s.addAll(config.ints("eos_token_id"));
        return s;
    }

    /**
     * The end-of-sequence ids a reference's greedy run banned for a model at {@code path}:
     * generation_config.json's {@code eos_token_id} beside it, else the model's config.
     */
    public static Set<Integer> generationEos(Path path, jllm.model.Model model) {
        Set<Integer> s = new LinkedHashSet<>();
        if (Files.isDirectory(path)) {
            JsonNode g = readJson(path.resolve("generation_config.json"));
            if (g != null) s.addAll(ids(g.get("eos_token_id")));
        }
        if (s.isEmpty()) for (int e : model.spec.eosIds) s.add(e);
        return s;
    }

    /** Every place the files name a special token's id, by role ("bos", "eos", "pad", "unk") and source. */
    public Map<String, Map<String, Integer>> specialIds() {
        Map<String, Map<String, Integer>> out = new LinkedHashMap<>();
        for (String role : List.of("bos", "eos", "pad", "unk")) out.put(role, new LinkedHashMap<>());
        if (gguf) {
            for (var e : Map.of("bos", "bos_token_id", "eos", "eos_token_id", "pad", "padding_token_id", "unk", "unknown_token_id").entrySet()) {
                String k = "tokenizer.ggml." + e.getValue();
                if (ggufFile.has(k)) out.get(e.getKey()).put(k, (int) ggufFile.getLong(k, -1));
            }
            return out;
        }
        for (String role : List.of("bos", "eos", "pad")) {
            List<Integer> c = config.ints(role + "_token_id");
            for (int i = 0; i < c.size(); i++) out.get(role).put("config.json " + role + "_token_id" + (c.size() > 1 ? "[" + i + "]" : ""), c.get(i));
            if (generationConfig != null) {
                List<Integer> g = ids(generationConfig.get(role + "_token_id"));
                for (int i = 0; i < g.size(); i++)
                    out.get(role).put("generation_config.json " + role + "_token_id" + (g.size() > 1 ? "[" + i + "]" : ""), g.get(i));
            }
        }
        if (tokenizer != null) {
            for (String role : List.of("bos", "eos", "pad", "unk")) {
                String s = tokenizer.specialTokens().get(role + "_token");
                if (s == null) continue;
                var id = tokenizer.tokenId(s);
                out.get(role).put("tokenizer_config.json " + role + "_token '" + s + "'", id.isPresent() ? id.getAsInt() : -1);
            }
        }
        return out;
    }

    /** The ids of bos/eos/pad/unk wherever named: untrained rows of these are expected and not errors. */
    public Set<Integer> roleIds() {
        Set<Integer> s = new LinkedHashSet<>();
        specialIds().values().forEach(m -> s.addAll(m.values()));
        s.addAll(generationEos());
        return s;
    }

    /** Which role a token id has (bos/eos/pad/unk), or null. */
    public String roleOf(int id) {
        for (var e : specialIds().entrySet()) if (e.getValue().containsValue(id)) return e.getKey();
        if (generationEos().contains(id)) return "eos";
        return null;
    }

    @Override
    public void close() {
        try {
            store.close();
        } catch (Exception ignored) {
            // mapped files are released by the GC; nothing to report
        }
    }
}
