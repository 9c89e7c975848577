package jllm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.formats.FormatException;

/**
 * A model's {@code config.json}, read with the defaults and key aliases transformers uses, and with
 * every size checked for plausibility before anything is allocated from it.
 */
public final class Config {
    /** Upper bounds well above any released model; a config beyond them is corrupt or hostile. */
    static final long MAX_HIDDEN = 1 << 17, MAX_LAYERS = 1 << 11, MAX_VOCAB = 1 << 23, MAX_HEADS = 1 << 12,
            MAX_HEAD_DIM = 1 << 12, MAX_INTERMEDIATE = 1 << 20, MAX_EXPERTS = 1 << 12;

    private final ObjectNode json;
    private final String source;

    public Config(ObjectNode json, String source) {
        this.json = json;
        this.source = source;
    }

    public static Config read(Path file) {
        JsonNode n = jllm.formats.io.InputFile.json(file, null);
        if (!n.isObject()) throw new FormatException(file + ": config is not a JSON object");
        return new Config((ObjectNode) n, file.toString());
    }

    public static Config of(String json) {
        try {
            return new Config((ObjectNode) new ObjectMapper().readTree(json), "<config>");
        } catch (IOException | ClassCastException e) {
            throw new FormatException("invalid config JSON: " + e.getMessage(), e);
        }
    }

    public ObjectNode json() { return json; }

    public String source() { return source; }

    public boolean has(String key) {
        JsonNode n = json.get(key);
        return n != null && !n.isNull();
    }

    public JsonNode node(String key) { return json.get(key); }

    public String str(String key, String def) { return has(key) ? json.get(key).asText() : def; }

    public double num(String key, double def) {
        if (!has(key)) return def;
        JsonNode n = json.get(key);
        if (!n.isNumber()) throw bad("'" + key + "' must be a number, got " + n);
        return n.asDouble();
    }

    /**
     * A number that must be finite and greater than 0 (epsilons, RoPE bases and factors, scales): 0, a
     * negative value or 1e999 (read as infinity) would give NaN or infinite activations, so it is refused
     * like an implausible size. The value must also survive the fp32 the model computes in.
     */
    public double positive(String key, double def) {
        double v = num(key, def);
        checkPositive("'" + key + "'", v);
        return v;
    }

    /** A number that must be finite (may be 0 or negative). */
    public double finite(String key, double def) {
        double v = num(key, def);
        if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) throw bad("'" + key + "' = " + v + " must be a finite number");
        return v;
    }

    /** Refuses {@code v} unless it is a finite number > 0 that fp32 can hold; {@code what} names it. */
    public void checkPositive(String what, double v) {
        if (!(v > 0) || !Double.isFinite(v) || v > Float.MAX_VALUE || (float) v == 0f)
            throw bad(what + " = " + v + " must be a finite number greater than 0");
    }

    public boolean bool(String key, boolean def) { return has(key) ? json.get(key).asBoolean() : def; }

    /** A required positive size no larger than {@code max}. */
    public int size(String key, long max) {
        if (!has(key)) throw bad("missing '" + key + "'");
        return checkSize(key, json.get(key), max);
    }

    public int size(String key, long max, int def) { return has(key) ? checkSize(key, json.get(key), max) : def; }

    private int checkSize(String key, JsonNode n, long max) {
        if (!n.canConvertToLong() || !n.isIntegralNumber()) throw bad("'" + key + "' must be an integer, got " + n);
        long v = n.asLong();
        if (v <= 0 || v > max) throw bad("'" + key + "' = " + v + " is not plausible (expected 1.." + max + ")");
        return (int) v;
    }

    public List<Integer> ints(String key) {
        List<Integer> out = new ArrayList<>();
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) return out;
        if (n.isArray()) n.forEach(e -> out.add(e.asInt()));
        else out.add(n.asInt());
        return out;
    }

    public List<String> strings(String key) {
        List<String> out = new ArrayList<>();
        JsonNode n = json.get(key);
        if (n != null && n.isArray()) n.forEach(e -> out.add(e.asText()));
        return out;
    }

    /**
     * The RoPE parameters of one attention type: transformers 5 {@code rope_parameters} (flat, or
     * keyed by layer type as Gemma 3 writes it), else the legacy {@code rope_scaling} + {@code rope_theta}.
     */
    public JsonNode ropeParameters(String layerType) {
        ObjectNode out = new ObjectMapper().createObjectNode();
        JsonNode rp = json.get("rope_parameters");
        if (rp != null && rp.isObject()) {
            JsonNode typed = layerType == null ? null : rp.get(layerType);
            if (typed != null && typed.isObject()) out.setAll((ObjectNode) typed);
            else if (!rp.has("full_attention") && !rp.has("sliding_attention")) out.setAll((ObjectNode) rp);
            else if (rp.get("full_attention") instanceof ObjectNode full) out.setAll(full);
        }
        JsonNode rs = json.get("rope_scaling");
        if (rs != null && rs.isObject()) rs.properties().forEach(e -> { if (!out.has(e.getKey())) out.set(e.getKey(), e.getValue()); });
        if (!out.has("rope_theta") && has("rope_theta")) out.set("rope_theta", json.get("rope_theta"));
        if (!out.has("rope_type")) out.put("rope_type", out.has("type") ? out.get("type").asText() : "default");
        return out;
    }

    public FormatException bad(String msg) {
        return new FormatException(source + ": " + msg);
    }
}
