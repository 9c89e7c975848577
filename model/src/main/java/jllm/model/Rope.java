package jllm.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import jllm.tensor.Numerics;
import jllm.tensor.Precision;

/**
 * Rotary position embedding of one layer type, computed as transformers' {@code modeling_rope_utils}
 * does: inverse frequencies and angles in fp32 (angles in bf16 would merge neighbouring positions
 * beyond a few hundred), cos/sin multiplied by the scaling type's attention factor.
 * Types: default, linear, dynamic, yarn, longrope (Phi-3's "su"/"yarn" aliases), llama3.
 */
public final class Rope {
    public final String type;
    public final int rotaryDim;
    public final boolean interleaved;
    private final float[] baseInvFreq;
    private final float attentionScaling;
    // dynamic / longrope depend on the sequence length of the call
    private final double theta, factor;
    private final int originalMax;
    private final float[] longInvFreq;
    private final float longAttentionScaling;

    private Rope(String type, int rotaryDim, boolean interleaved, float[] inv, float scaling, double theta, double factor,
                 int originalMax, float[] longInv, float longScaling) {
        this.type = type;
        this.rotaryDim = rotaryDim;
        this.interleaved = interleaved;
        this.baseInvFreq = inv;
        this.attentionScaling = scaling;
        this.theta = theta;
        this.factor = factor;
        this.originalMax = originalMax;
        this.longInvFreq = longInv;
        this.longAttentionScaling = longScaling;
    }

    /** The same RoPE rotating adjacent pairs (llama.cpp's layout for Llama-architecture GGUF files) or halves. */
    public Rope withInterleaved(boolean inter) {
        return new Rope(type, rotaryDim, inter, baseInvFreq, attentionScaling, theta, factor, originalMax, longInvFreq, longAttentionScaling);
    }

    /**
     * The same RoPE with each inverse frequency divided by a factor — llama.cpp's {@code rope_freqs}
     * tensor, which is how GGUF files carry Llama 3.1-style scaling.
     */
    public Rope withFrequencyFactors(float[] factors) {
        if (factors.length != baseInvFreq.length)
            throw new IllegalArgumentException("rope_freqs has " + factors.length + " factors for " + baseInvFreq.length + " frequencies");
        float[] inv = baseInvFreq.clone();
        for (int i = 0; i < inv.length; i++) inv[i] = inv[i] / factors[i];
        return new Rope(type, rotaryDim, interleaved, inv, attentionScaling, theta, factor, originalMax, longInvFreq, longAttentionScaling);
    }

    /** The inverse frequencies used for sequences within the original context. */
    public float[] inverseFrequencies() { return baseInvFreq.clone(); }

    /** Reads the parameters of {@code layerType} (null = the model's single RoPE). */
    public static Rope fromConfig(Config c, String layerType, int headDim, boolean interleaved) {
        JsonNode p = c.ropeParameters(layerType);
        double theta = positive(c, p, "rope_theta", 10000.0);
        double partial = p.has("partial_rotary_factor") ? positive(c, p, "partial_rotary_factor", 1.0) : c.positive("partial_rotary_factor", 1.0);
        int dim = (int) (headDim * partial);
        if (dim < 2 || dim > headDim || dim % 2 != 0) throw c.bad("rotary dimension " + dim + " (head_dim " + headDim + " x partial_rotary_factor " + partial + ") must be even and in 2.." + headDim);
        String type = p.path("rope_type").asText("default");
        int maxPos = (int) c.num("max_position_embeddings", 2048);
        float[] inv = defaultInvFreq(theta, dim);
        switch (type) {
            case "default", "mrope" -> { return new Rope("default", dim, interleaved, inv, 1f, theta, 1, 0, null, 1f); }
            case "linear" -> {
                float f = (float) req(c, p, "factor");
                for (int i = 0; i < inv.length; i++) inv[i] = inv[i] / f;
                return new Rope(type, dim, interleaved, inv, 1f, theta, f, 0, null, 1f);
            }
            case "dynamic" -> {
                double f = req(c, p, "factor");
                int orig = p.has("original_max_position_embeddings") ? (int) positive(c, p, "original_max_position_embeddings", maxPos) : maxPos;
                if (orig < 1) throw c.bad("rope parameter 'original_max_position_embeddings' must be >= 1");
                return new Rope(type, dim, interleaved, inv, 1f, theta, f, orig, null, 1f);
            }
            case "yarn" -> { return yarn(c, p, theta, dim, maxPos, interleaved); }
            case "longrope", "su" -> { return longrope(c, p, theta, dim, maxPos, interleaved); }
            case "llama3" -> { return llama3(c, p, theta, dim, interleaved); }
            default -> throw c.bad("unsupported rope_type '" + type + "' (supported: default, linear, dynamic, yarn, longrope, llama3)");
        }
    }

    /** A required RoPE parameter, a finite number > 0 (a factor of 0 divides by zero, a negative one reverses rotations). */
    private static double req(Config c, JsonNode p, String key) {
        if (!p.has(key) || !p.get(key).isNumber()) throw c.bad("rope parameters need a numeric '" + key + "'");
        return positive(c, p, key, 0);
    }

    /** An optional RoPE parameter that must be a finite number > 0 when present. */
    private static double positive(Config c, JsonNode p, String key, double def) {
        JsonNode n = p.get(key);
        if (n == null || n.isNull()) return def;
        if (!n.isNumber()) throw c.bad("rope parameter '" + key + "' must be a number, got " + n);
        c.checkPositive("rope parameter '" + key + "'", n.asDouble());
        return n.asDouble();
    }

    /** {@code 1 / theta^(2i/d)}, each step rounded to fp32 as torch computes it. */
    static float[] defaultInvFreq(double theta, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float e = (float) (2 * i) / dim;
            inv[i] = 1f / (float) Math.pow(theta, e);
        }
        return inv;
    }

    private static Rope yarn(Config c, JsonNode p, double theta, int dim, int maxPos, boolean interleaved) {
        double factor = req(c, p, "factor");
        int orig = p.has("original_max_position_embeddings") ? (int) positive(c, p, "original_max_position_embeddings", maxPos) : maxPos;
        if (orig < 1) throw c.bad("rope parameter 'original_max_position_embeddings' must be >= 1");
        if (p.has("original_max_position_embeddings")) factor = (double) maxPos / orig;
        Double attn = p.hasNonNull("attention_factor") ? positive(c, p, "attention_factor", 1) : null;
        double mscale = p.path("mscale").asDouble(0), mscaleAll = p.path("mscale_all_dim").asDouble(0);
        if (attn == null) attn = (mscale != 0 && mscaleAll != 0) ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAll) : yarnMscale(factor, 1);
        c.checkPositive("yarn attention factor (from attention_factor or mscale / mscale_all_dim)", attn);
        // transformers: `beta_fast or 32`, so 0 means the default
        double betaFast = p.path("beta_fast").asDouble(0) == 0 ? 32 : positive(c, p, "beta_fast", 32);
        double betaSlow = p.path("beta_slow").asDouble(0) == 0 ? 1 : positive(c, p, "beta_slow", 1);
        boolean truncate = p.path("truncate").asBoolean(true);
        double low = correctionDim(betaFast, dim, theta, orig), high = correctionDim(betaSlow, dim, theta, orig);
        if (truncate) { low = Math.floor(low); high = Math.ceil(high); }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float posFreq = (float) Math.pow(theta, (float) (2 * i) / dim);
            float extra = 1f / posFreq, inter = 1f / ((float) factor * posFreq);
            float ramp = Math.min(1f, Math.max(0f, (float) ((i - low) / (high - low))));
            float extraFactor = 1f - ramp;
            inv[i] = inter * (1f - extraFactor) + extra * extraFactor;
        }
        return new Rope("yarn", dim, interleaved, inv, (float) (double) attn, theta, factor, orig, null, 1f);
    }

    private static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double theta, int maxPos) {
        return dim * Math.log(maxPos / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    private static Rope longrope(Config c, JsonNode p, double theta, int dim, int maxPos, boolean interleaved) {
        float[] shortF = factors(c, p, "short_factor", dim), longF = factors(c, p, "long_factor", dim);
        int orig = p.has("original_max_position_embeddings") ? (int) positive(c, p, "original_max_position_embeddings", maxPos)
                : (int) c.positive("original_max_position_embeddings", maxPos);
        if (orig < 1) throw c.bad("rope parameter 'original_max_position_embeddings' must be >= 1");
        double factor = c.has("original_max_position_embeddings") || p.has("original_max_position_embeddings")
                ? (double) maxPos / orig : p.path("factor").asDouble(1.0);
        double attn = p.hasNonNull("attention_factor") ? positive(c, p, "attention_factor", 1)
                : factor <= 1.0 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(orig));
        float[] sInv = new float[dim / 2], lInv = new float[dim / 2];
        for (int i = 0; i < sInv.length; i++) {
            float pw = (float) Math.pow(theta, (float) (2 * i) / dim);
            sInv[i] = 1f / (shortF[i] * pw);
            lInv[i] = 1f / (longF[i] * pw);
        }
        return new Rope("longrope", dim, interleaved, sInv, (float) attn, theta, factor, orig, lInv, (float) attn);
    }

    private static float[] factors(Config c, JsonNode p, String key, int dim) {
        JsonNode a = p.get(key);
        if (a == null || !a.isArray() || a.size() != dim / 2) throw c.bad("longrope '" + key + "' must be a list of " + dim / 2 + " numbers");
        float[] f = new float[dim / 2];
        for (int i = 0; i < f.length; i++) {
            if (!a.get(i).isNumber()) throw c.bad("longrope '" + key + "' must be a list of " + dim / 2 + " numbers");
            c.checkPositive("longrope '" + key + "'[" + i + "]", a.get(i).asDouble());
            f[i] = (float) a.get(i).asDouble();
        }
        return f;
    }

    private static Rope llama3(Config c, JsonNode p, double theta, int dim, boolean interleaved) {
        float factor = (float) req(c, p, "factor"), low = (float) req(c, p, "low_freq_factor"), high = (float) req(c, p, "high_freq_factor");
        float old = (float) req(c, p, "original_max_position_embeddings");
        if (!(high > low)) throw c.bad("rope parameters need high_freq_factor > low_freq_factor, got " + high + " and " + low);
        float lowWave = old / low, highWave = old / high;
        float[] inv = defaultInvFreq(theta, dim);
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (float) (2 * Math.PI) / inv[i];
            float scaled = wavelen > lowWave ? inv[i] / factor : inv[i];
            if (!(wavelen < highWave) && !(wavelen > lowWave)) {
                float smooth = (old / wavelen - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv[i] = scaled;
        }
        return new Rope("llama3", dim, interleaved, inv, 1f, theta, factor, 0, null, 1f);
    }

    /** Inverse frequencies used for a forward call whose largest position is {@code maxPos}. */
    private float[] invFreq(int maxPos) {
        int seqLen = maxPos + 1;
        if (type.equals("dynamic") && seqLen > originalMax) {
            double base = theta * Math.pow(factor * seqLen / originalMax - (factor - 1), (double) rotaryDim / (rotaryDim - 2));
            return defaultInvFreq(base, rotaryDim);
        }
        if (longInvFreq != null && seqLen > originalMax) return longInvFreq;
        return baseInvFreq;
    }

    private float scaling(int maxPos) {
        return longInvFreq != null && maxPos + 1 > originalMax ? longAttentionScaling : attentionScaling;
    }

    /** cos and sin tables {@code [rows, rotaryDim/2]} for the given positions. */
    public float[][] tables(int[] pos, int rows) {
        return tables(pos, rows, Precision.FP32);
    }

    /**
     * The tables as computed in dtype {@code p} ({@link Numerics#rope}): inverse frequencies,
     * positions and angles each rounded to p, then cos and sin of the rounded angle (and their
     * product with the attention factor) rounded to p. In fp32 every rounding is the identity;
     * bf16 is the well-known bug that merges neighbouring positions beyond a few hundred.
     */
    public float[][] tables(int[] pos, int rows, Precision p) {
        int max = 0;
        for (int t = 0; t < rows; t++) max = Math.max(max, pos[t]);
        float[] inv = invFreq(max);
        float s = scaling(max);
        int half = rotaryDim / 2;
        float[] cos = new float[rows * half], sin = new float[rows * half];
        for (int t = 0; t < rows; t++) {
            float position = p.round((float) pos[t]);
            for (int i = 0; i < half; i++) {
                float angle = p.round(position * p.round(inv[i]));
                cos[t * half + i] = p.round(p.round((float) Math.cos(angle)) * s);
                sin[t * half + i] = p.round(p.round((float) Math.sin(angle)) * s);
            }
        }
        return new float[][] {cos, sin};
    }

    public static List<String> supportedTypes() {
        return new ArrayList<>(List.of("default", "linear", "dynamic", "yarn", "longrope", "llama3"));
    }
}
