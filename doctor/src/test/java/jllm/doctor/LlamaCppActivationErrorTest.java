package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The cost of 8-bit activations, ours against llama.cpp's, on the same GGUF files and the same tokens.
 * llama.cpp multiplies quantized weights by activations quantized to q8_0 (fp16 for F16 weights); its
 * fp32-activation reference is the same weights dequantized to an F32 file. Both runs' log-probs come
 * from {@code llama-perplexity --kl-divergence-base} (tokens included); this test runs jllm on those
 * tokens with int8 activations (token by token, as decode runs), in fast mode as one prefill (int8
 * activations where the format has a 16-bit prefill tile: Q4_0, Q4_1, Q4_K) and exact, and compares
 * the two errors with the same measures. Heavy (a 1B model, minutes), so opt-in:
 * {@code -Djllm.llamacpp.logprobs=DIR}, a folder holding {@code l1b-T.gguf}, {@code lp-T.bin} and
 * {@code lp-T-deq-f32.bin} for the types in {@code -Djllm.llamacpp.types} (default q8_0,q4_0,q4_k_m,f16);
 * docs/quantization-and-speed.md shows the commands that make them.
 */
@EnabledIfSystemProperty(named = "jllm.llamacpp.logprobs", matches = ".+")
class LlamaCppActivationErrorTest {

    /** llama.cpp's {@code --kl-divergence-base} file: tokens, and per scored position the log-probs as 16-bit codes. */
    record LogProbs(int ctx, int vocab, int chunks, int[] tokens, float[][] rows) {
        /** Scored positions per chunk: {@code first = ctx / 2 .. ctx - 2}. */
        int first() { return ctx / 2; }

        int perChunk() { return ctx - 1 - first(); }

        static LogProbs read(Path f) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[8];
            b.get(magic);
            if (!new String(magic, java.nio.charset.StandardCharsets.US_ASCII).equals("_logits_")) throw new IOException(f + ": not a llama.cpp logits file");
            int ctx = b.getInt(), vocab = b.getInt(), chunks = b.getInt();
            int[] tokens = new int[ctx * chunks];
            for (int i = 0; i < tokens.length; i++) tokens[i] = b.getInt();
            int nv = 2 * ((vocab + 1) / 2) + 4, per = ctx - 1 - ctx / 2;
            float[][] rows = new float[chunks * per][vocab];
            for (float[] row : rows) {
                int at = b.position();
                float scale = b.getFloat(), min = b.getFloat();
                b.position(at + 8);
                for (int i = 0; i < vocab; i++) row[i] = min + scale * (b.getShort() & 0xffff);
                b.position(at + 2 * nv);
            }
            return new LogProbs(ctx, vocab, chunks, tokens, rows);
        }
    }

    /** Error measures of {@code test} against {@code ref}, both log-probs (or logits) per position. */
    record Err(double kld, double relL2, double sameTop) {
        static Err of(float[][] ref, float[][] test) {
            double kl = 0, d2 = 0, n2 = 0;
            int same = 0;
            for (int r = 0; r < ref.length; r++) {
                double[] p = logSoftmax(ref[r]), q = logSoftmax(test[r]);
                double mp = mean(p), mq = mean(q);
                int ap = 0, aq = 0;
                for (int i = 0; i < p.length; i++) {
                    kl += Math.exp(p[i]) * (p[i] - q[i]);
                    double a = p[i] - mp, e = (q[i] - mq) - a;
                    d2 += e * e;
                    n2 += a * a;
                    if (p[i] > p[ap]) ap = i;
                    if (q[i] > q[aq]) aq = i;
                }
                if (ap == aq) same++;
            }
            return new Err(kl / ref.length, Math.sqrt(d2 / n2), (double) same / ref.length);
        }

        @Override
        public String toString() { return String.format(Locale.ROOT, "mean KLD %.3e, rel L2 of centred logits %.3e, same top %.1f%%", kld, relL2, 100 * sameTop); }
    }

    static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY, s = 0;
        for (float v : x) max = Math.max(max, v);
        for (float v : x) s += Math.exp(v - max);
        double lse = max + Math.log(s);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - lse;
        return out;
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /**
     * jllm's logits at the scored positions of every chunk (BOS first, as llama.cpp does): fed one
     * token at a time (decode, where int8 activations act) or, for the exact reference, as one prefill.
     */
    static float[][] jllmLogits(Model m, LogProbs lp, int bos, boolean tokenByToken) {
        float[][] rows = new float[lp.chunks() * lp.perChunk()][];
        int V = m.spec.vocab, n = lp.ctx() - 1;
        for (int c = 0, r = 0; c < lp.chunks(); c++) {
            int[] ids = java.util.Arrays.copyOfRange(lp.tokens(), c * lp.ctx(), c * lp.ctx() + n);
            if (bos >= 0) ids[0] = bos;
            Model.State st = m.newState();
            if (!tokenByToken) {
                float[] all = m.forward(st, ids, true, null);
                for (int t = lp.first(); t < n; t++) rows[r++] = java.util.Arrays.copyOfRange(all, t * V, (t + 1) * V);
                continue;
            }
            for (int t = 0; t < n; t++) {
                float[] logits = m.forward(st, new int[] {ids[t]}, false, null);
                if (t >= lp.first()) rows[r++] = logits.clone();
            }
        }
        return rows;
    }

    @Test
    void int8ActivationsCostNoMoreThanLlamaCppsOwn() throws IOException {
        Path dir = Path.of(System.getProperty("jllm.llamacpp.logprobs"));
        for (String type : System.getProperty("jllm.llamacpp.types", "q8_0,q4_0,q4_k_m,f16").split(",")) {
            LogProbs ref = LogProbs.read(dir.resolve("lp-" + type + "-deq-f32.bin")), q8 = LogProbs.read(dir.resolve("lp-" + type + ".bin"));
            assertEquals(java.util.Arrays.toString(ref.tokens()), java.util.Arrays.toString(q8.tokens()), "both llama.cpp runs saw the same tokens");
            // llama.cpp puts BOS first in every chunk when the vocabulary adds one; the file keeps the text's tokens
            int bos = ref.tokens()[0] == 128000 ? 128000 : -1;
            Path gguf = dir.resolve("l1b-" + type + ".gguf");
            float[][] exact = jllmLogits(ModelLoader.load(gguf, new CpuBackend(2, true), w -> { }), ref, bos, false);
            Model fast = ModelLoader.load(gguf, new CpuBackend(2), w -> { });
            float[][] int8 = jllmLogits(fast, ref, bos, true), int8Prefill = jllmLogits(fast, ref, bos, false);
            Err llama = Err.of(ref.rows(), q8.rows()), ours = Err.of(exact, int8), oursPrefill = Err.of(exact, int8Prefill), agree = Err.of(ref.rows(), exact);
            System.out.printf(Locale.ROOT, "%s: llama.cpp int8 (q8_0/q8_K) or fp16 activations vs its fp32 (dequantized F32 file): %s%n", type, llama);
            System.out.printf(Locale.ROOT, "%s: jllm int8 activations vs jllm exact:                          %s%n", type, ours);
            System.out.printf(Locale.ROOT, "%s: jllm fast prefill vs jllm exact (int8 where a 16-bit tile):   %s%n", type, oursPrefill);
            System.out.printf(Locale.ROOT, "%s: jllm exact vs llama.cpp fp32 (same tokens, sanity):           %s%n", type, agree);
            // the 16-bit codes of llama.cpp's file alone put a floor of ~1e-9 under its KLD; allow noise of a few percent
            assertTrue(agree.kld() < 0.1 * llama.kld() + 1e-6, type + ": jllm exact and llama.cpp fp32 disagree: " + agree);
            assertTrue(ours.kld() <= 1.1 * llama.kld() + 1e-6, type + ": our int8 error " + ours + " exceeds llama.cpp's " + llama);
            assertTrue(oursPrefill.kld() <= 1.1 * llama.kld() + 1e-6, type + ": our fast prefill's error " + oursPrefill + " exceeds llama.cpp's " + llama);
        }
    }
}
