package jllm.train.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.tensor.Tensor;
import jllm.train.data.PromptFormat;

/**
 * A LoRA adapter in PEFT's files, so transformers/PEFT, Unsloth, vLLM and llama.cpp's converter load
 * what jllm trains, and jllm loads theirs:
 * <ul>
 *   <li>{@code adapter_model.safetensors}, metadata {@code {"format": "pt"}}, tensors
 *       {@code base_model.model.<module>.lora_A.weight} [r, in] and {@code ...lora_B.weight} [out, r]
 *       (PEFT drops the adapter name ".default" when saving), and for modules_to_save the whole
 *       tensor as {@code base_model.model.<name>}.</li>
 *   <li>{@code adapter_config.json} with PEFT's keys, plus {@code "jllm": {"prompt_format": ...}}
 *       recording how training formatted examples, so the adapter alone says how to prompt it. PEFT
 *       0.13 and later ignore unknown keys with a warning (older PEFT refuses them; delete the key there).</li>
 * </ul>
 * Weights are written as F32 and read back bit for bit; F16/BF16 adapters from elsewhere are widened.
 */
public final class PeftAdapter {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    public static final String PREFIX = "base_model.model.";
    private static final Pattern LORA_TENSOR = Pattern.compile("^base_model\\.model\\.(.+)\\.lora_([AB])(?:\\.default)?\\.weight$");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A module trained in full (modules_to_save): its Hugging Face tensor name, shape and values. */
    public record SavedTensor(String name, long[] shape, float[] data) { }

    public final LoraConfig config;
    /** LoRA layers by module path, in the order they were added (written in that order). */
    public final Map<String, LoraPair> layers;
    public final Map<String, SavedTensor> saved;
    /** How training formatted examples; null for an adapter made elsewhere. */
    public final PromptFormat promptFormat;

    public PeftAdapter(LoraConfig config, Collection<LoraPair> layers, Collection<SavedTensor> saved, PromptFormat promptFormat) {
        this.config = config;
        Map<String, LoraPair> l = new LinkedHashMap<>();
        for (LoraPair p : layers) {
            if (p.r() != config.r()) throw new IllegalArgumentException(p.module() + ": rank " + p.r() + " differs from the config's r " + config.r());
            if (l.put(p.module(), p) != null) throw new IllegalArgumentException("two LoRA pairs for " + p.module());
        }
        Map<String, SavedTensor> s = new LinkedHashMap<>();
        for (SavedTensor t : saved) if (s.put(t.name(), t) != null) throw new IllegalArgumentException("two saved tensors named " + t.name());
        this.layers = java.util.Collections.unmodifiableMap(l);
        this.saved = java.util.Collections.unmodifiableMap(s);
        this.promptFormat = promptFormat;
    }

    public static String tensorName(String module, char which) { return PREFIX + module + ".lora_" + which + ".weight"; }

    public ObjectNode configJson() {
        ObjectNode c = JSON.createObjectNode();
        c.putObject("alpha_pattern");
        c.putNull("auto_mapping");
        if (config.baseModel() == null) c.putNull("base_model_name_or_path");
        else c.put("base_model_name_or_path", config.baseModel());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.putNull("layers_pattern");
        c.putNull("layers_to_transform");
        // PEFT writes an int alpha as an int (16, not 16.0); keep that spelling.
        if (config.alpha() == Math.rint(config.alpha()) && Math.abs(config.alpha()) < 1e15) c.put("lora_alpha", (long) config.alpha());
        else c.put("lora_alpha", config.alpha());
        c.put("lora_dropout", config.dropout());
        if (config.modulesToSave().isEmpty()) c.putNull("modules_to_save");
        else {
            ArrayNode m = c.putArray("modules_to_save");
            config.modulesToSave().forEach(m::add);
        }
        c.put("peft_type", "LORA");
        c.put("r", config.r());
        c.putObject("rank_pattern");
        c.putNull("revision");
        ArrayNode t = c.putArray("target_modules");
        config.targetModules().forEach(t::add);
        c.put("task_type", "CAUSAL_LM");
        c.put("use_dora", false);
        c.put("use_rslora", config.useRslora());
        if (promptFormat != null) c.putObject("jllm").set("prompt_format", promptFormat.toJson());
        return c;
    }

    /**
     * Writes both files into {@code dir} (created; an existing non-empty directory only with
     * {@code overwrite}), each atomically.
     */
    public Path write(Path dir, boolean overwrite, Collection<Path> inputs) {
        Path real = OutputFile.directory(dir, overwrite, inputs);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (LoraPair p : layers.values()) {
            w.addF32(tensorName(p.module(), 'A'), p.a(), p.r(), p.in());
            w.addF32(tensorName(p.module(), 'B'), p.b(), p.out(), p.r());
        }
        for (SavedTensor s : saved.values()) w.addF32(PREFIX + s.name(), s.data(), s.shape());
        OutputFile.write(real.resolve(WEIGHTS), true, inputs, (OutputFile.StreamBody) w::write);
        byte[] cfg;
        try {
            cfg = JSON.writeValueAsString(configJson()).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot serialise the adapter config: " + e.getMessage(), e);
        }
        OutputFile.write(real.resolve(CONFIG), true, inputs, (OutputFile.StreamBody) out -> out.write(cfg));
        return real;
    }

    /** Reads an adapter directory (jllm's or PEFT's); every unsupported feature is named. */
    public static PeftAdapter read(Path dir) {
        Path cfgPath = dir.resolve(CONFIG), wPath = dir.resolve(WEIGHTS);
        if (!Files.isDirectory(dir)) throw new FormatException(dir + ": not a directory (an adapter is a directory with " + CONFIG + " and " + WEIGHTS + ")");
        if (!Files.isRegularFile(cfgPath)) throw new FormatException(dir + ": no " + CONFIG + " (is this a PEFT adapter directory?)");
        if (!Files.isRegularFile(wPath)) {
            String hint = Files.exists(dir.resolve("adapter_model.bin")) ? " (adapter_model.bin is a pickle file; re-save the adapter with safetensors)" : "";
            throw new FormatException(dir + ": no " + WEIGHTS + hint);
        }
        JsonNode c;
        try {
            c = JSON.readTree(cfgPath.toFile());
        } catch (IOException e) {
            throw new FormatException(cfgPath + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (c == null || !c.isObject()) throw new FormatException(cfgPath + ": not a JSON object");
        LoraConfig config = config(cfgPath, c);
        PromptFormat format = c.path("jllm").has("prompt_format") ? PromptFormat.fromJson(cfgPath.toString(), c.path("jllm").get("prompt_format")) : null;

        SafetensorsFile f = SafetensorsFile.open(wPath);
        Map<String, float[][]> halves = new TreeMap<>();
        Map<String, long[][]> shapes = new TreeMap<>();
        List<SavedTensor> saved = new ArrayList<>();
        for (String name : f.names()) {
            Matcher m = LORA_TENSOR.matcher(name);
            Tensor t = f.tensor(name);
            if (m.matches()) {
                int k = m.group(2).equals("A") ? 0 : 1;
                if (t.rank() != 2) throw new FormatException(wPath + ": " + name + " has rank " + t.rank() + ", expected a matrix");
                halves.computeIfAbsent(m.group(1), x -> new float[2][])[k] = t.toFloatArray();
                shapes.computeIfAbsent(m.group(1), x -> new long[2][])[k] = t.shape();
            } else if (name.startsWith(PREFIX) && isSaved(name.substring(PREFIX.length()), config.modulesToSave())) {
                saved.add(new SavedTensor(name.substring(PREFIX.length()), t.shape(), t.toFloatArray()));
            } else {
                throw new FormatException(wPath + ": unexpected tensor " + name + " (a LoRA adapter holds " + PREFIX
                        + "<module>.lora_A.weight / .lora_B.weight and modules_to_save tensors)");
            }
        }
        List<LoraPair> layers = new ArrayList<>();
        for (var e : halves.entrySet()) {
            String mod = e.getKey();
            if (e.getValue()[0] == null || e.getValue()[1] == null)
                throw new FormatException(wPath + ": " + mod + " has lora_" + (e.getValue()[0] == null ? "B but no lora_A" : "A but no lora_B"));
            long[] sa = shapes.get(mod)[0], sb = shapes.get(mod)[1];
            if (sa[0] != config.r() || sb[1] != config.r())
                throw new FormatException(wPath + ": " + mod + " has rank " + sa[0] + " (A " + shape(sa) + ", B " + shape(sb) + ") but r is " + config.r()
                        + (sa[0] == sb[1] ? " (per-module ranks, rank_pattern, are not supported)" : ""));
            layers.add(new LoraPair(mod, config.r(), Math.toIntExact(sa[1]), Math.toIntExact(sb[0]), e.getValue()[0], e.getValue()[1]));
        }
        if (layers.isEmpty()) throw new FormatException(wPath + ": holds no LoRA tensors");
        return new PeftAdapter(config, layers, saved, format);
    }

    private static boolean isSaved(String name, List<String> modulesToSave) {
        for (String m : modulesToSave) if (name.equals(m + ".weight") || name.endsWith("." + m + ".weight") || name.equals(m)) return true;
        return false;
    }

    private static String shape(long[] s) { return java.util.Arrays.toString(s); }

    private static LoraConfig config(Path p, JsonNode c) {
        String type = c.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new FormatException(p + ": peft_type is \"" + type + "\"; only LoRA adapters (\"LORA\") are supported");
        if (c.path("use_dora").asBoolean(false)) throw new FormatException(p + ": a DoRA adapter (use_dora: true) is not supported");
        if (c.path("fan_in_fan_out").asBoolean(false)) throw new FormatException(p + ": fan_in_fan_out: true (transposed GPT-2 Conv1D weights) is not supported");
        String bias = c.path("bias").asText("none");
        if (!bias.equals("none")) throw new FormatException(p + ": bias \"" + bias + "\" (trained biases) is not supported; only \"none\"");
        for (String k : List.of("rank_pattern", "alpha_pattern")) {
            JsonNode n = c.get(k);
            if (n != null && n.isObject() && !n.isEmpty()) throw new FormatException(p + ": " + k + " (per-module ranks or alphas) is not supported");
        }
        JsonNode r = c.get("r"), alpha = c.get("lora_alpha");
        if (r == null || !r.canConvertToInt() || !r.isIntegralNumber()) throw new FormatException(p + ": \"r\" must be an integer");
        if (alpha == null || !alpha.isNumber()) throw new FormatException(p + ": \"lora_alpha\" must be a number");
        JsonNode tm = c.get("target_modules");
        List<String> targets = new ArrayList<>();
        if (tm != null && tm.isArray()) tm.forEach(x -> targets.add(x.asText()));
        else if (tm != null && tm.isTextual()) targets.add(tm.asText());
        else throw new FormatException(p + ": \"target_modules\" must be a list of module names (or a regular expression)");
        List<String> toSave = new ArrayList<>();
        JsonNode ms = c.get("modules_to_save");
        if (ms != null && ms.isArray()) ms.forEach(x -> toSave.add(x.asText()));
        JsonNode base = c.get("base_model_name_or_path");
        try {
            return new LoraConfig(r.asInt(), alpha.asDouble(), c.path("lora_dropout").asDouble(0), targets, c.path("use_rslora").asBoolean(false),
                    toSave, base == null || base.isNull() ? null : base.asText());
        } catch (IllegalArgumentException e) {
            throw new FormatException(p + ": " + e.getMessage());
        }
    }
}
