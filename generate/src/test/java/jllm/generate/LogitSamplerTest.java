package jllm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogitSamplerTest {
    static SamplingParams params(double temp, int topK, double topP, double minP, double rep, double freq, double pres, long seed, Map<Integer, Float> bias) {
        return new SamplingParams(temp, topK, topP, minP, rep, freq, pres, seed, bias);
    }

    static Set<Integer> draws(SamplingParams p, float[] logits, int n) {
        Set<Integer> seen = new HashSet<>();
        LogitSampler s = new LogitSampler(p);
        for (int i = 0; i < n; i++) seen.add(s.sample(logits, 0, logits.length));
        return seen;
    }

    final float[] logits = {1.0f, 3.0f, 2.0f, 0.5f, 2.9f};

    @Test
    void temperatureZeroIsArgmax() {
        assertEquals(1, new LogitSampler(SamplingParams.GREEDY).sample(logits, 0, 5));
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        SamplingParams p = params(1.0, 0, 1, 0, 1, 0, 0, 1234, null);
        LogitSampler a = new LogitSampler(p), b = new LogitSampler(p), c = new LogitSampler(params(1.0, 0, 1, 0, 1, 0, 0, 99, null));
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int i = 0; i < 200; i++) { sa.append(a.sample(logits, 0, 5)); sb.append(b.sample(logits, 0, 5)); sc.append(c.sample(logits, 0, 5)); }
        assertEquals(sa.toString(), sb.toString());
        assertTrue(!sa.toString().equals(sc.toString()));
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        assertEquals(Set.of(1, 4), draws(params(5.0, 2, 1, 0, 1, 0, 0, 1, null), logits, 500));
        assertEquals(Set.of(1), draws(params(5.0, 1, 1, 0, 1, 0, 0, 1, null), logits, 100));
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        // probabilities at T=1: p1 = .389, p4 = .352, p2 = .143, p0 = .053, p3 = .032
        assertEquals(Set.of(1), draws(params(1.0, 0, 0.3, 0, 1, 0, 0, 1, null), logits, 300));
        assertEquals(Set.of(1, 4), draws(params(1.0, 0, 0.7, 0, 1, 0, 0, 1, null), logits, 500));
        assertEquals(Set.of(1, 4, 2), draws(params(1.0, 0, 0.8, 0, 1, 0, 0, 1, null), logits, 1000));
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTop() {
        // p2 / p1 = e^-1 = .37, p0 / p1 = e^-2 = .135
        assertEquals(Set.of(1, 4, 2), draws(params(1.0, 0, 1, 0.3, 1, 0, 0, 1, null), logits, 1000));
        assertEquals(Set.of(1, 4), draws(params(1.0, 0, 1, 0.5, 1, 0, 0, 1, null), logits, 1000));
    }

    @Test
    void logitBiasCanForceOrBanATokenInGreedyToo() {
        Map<Integer, Float> ban = new HashMap<>();
        ban.put(1, Float.NEGATIVE_INFINITY);
        assertEquals(4, new LogitSampler(params(0, 0, 1, 0, 1, 0, 0, 0, ban)).sample(logits, 0, 5));
        assertEquals(Set.of(3), draws(params(1.0, 0, 1, 0, 1, 0, 0, 7, Map.of(3, 100f)), logits, 100));
    }

    @Test
    void penaltiesFollowTheirDefinitions() {
        // repetition 2.0 on token 1 (positive logit -> divided): 3.0 -> 1.5, so token 4 (2.9) wins greedily
        LogitSampler rep = new LogitSampler(params(0, 0, 1, 0, 2.0, 0, 0, 0, null));
        rep.observePrompt(new int[] {1});
        assertEquals(4, rep.sample(logits, 0, 5));
        // negative logits are multiplied by the penalty (pushed further down)
        LogitSampler neg = new LogitSampler(params(0, 0, 1, 0, 2.0, 0, 0, 0, null));
        neg.observePrompt(new int[] {0});
        assertEquals(1, neg.sample(new float[] {-0.1f, -0.15f}, 0, 2)); // -0.1*2 = -0.2 < -0.15
        // frequency 0.05 per occurrence + presence 0.02: token 1 generated twice -> 3.0 - 0.12 = 2.88 < 2.9
        LogitSampler fp = new LogitSampler(params(0, 0, 1, 0, 1, 0.05, 0.02, 0, null));
        fp.observeGenerated(1);
        assertEquals(1, fp.sample(logits, 0, 5)); // 3.0 - 0.07 = 2.93 still wins after one
        fp.observeGenerated(1);
        assertEquals(4, fp.sample(logits, 0, 5));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> params(-1, 0, 1, 0, 1, 0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 0, 0, 1, 0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 1.5, 1, 0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, -2, 1, 0, 1, 0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 0, 0, 0, 0, 0, null));
    }

    @Test
    void sortIsDescendingAndStable() {
        int[] idx = LogitSampler.sortedDescending(new float[] {1f, 3f, -2f, 3f, Float.NEGATIVE_INFINITY, -0f, 0f});
        assertEquals("[1, 3, 0, 5, 6, 2, 4]", java.util.Arrays.toString(idx));
    }

    /** The order sortedDescending promises, made the plain way: (descending value, ascending index) pairs sorted. */
    private static int[] referenceOrder(float[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        java.util.Arrays.sort(idx, (a, b) -> {
            float x = Float.isNaN(v[a]) ? Float.NEGATIVE_INFINITY : v[a] + 0f, y = Float.isNaN(v[b]) ? Float.NEGATIVE_INFINITY : v[b] + 0f;
            return x != y ? Float.compare(y, x) : Integer.compare(a, b);
        });
        return java.util.Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void radixSortAndTopKSelectionGiveTheFullSortsOrder() {
        java.util.Random r = new java.util.Random(11);
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, Float.MIN_VALUE, -Float.MAX_VALUE};
        for (int n : new int[] {1, 2, 7, 100, 1000, 40_000}) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++)
                v[i] = r.nextInt(10) == 0 ? specials[r.nextInt(specials.length)]
                        : r.nextBoolean() ? r.nextInt(20) - 10 : (float) r.nextGaussian() * 8; // many ties
            int[] want = referenceOrder(v);
            assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(LogitSampler.sortedDescending(v)), "n=" + n);
            for (int k : new int[] {1, 2, 40, n - 1})
                if (k >= 1 && k < n)
                    assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOf(want, k)), java.util.Arrays.toString(LogitSampler.topDescending(v, k)), "n=" + n + " k=" + k);
        }
    }

    @Test
    void aTinyTemperatureTendsToArgmaxInsteadOfOverflowing() {
        for (double t : new double[] {1e-40, 1e-300, Double.MIN_VALUE})
            assertEquals(Set.of(1), draws(params(t, 0, 1, 0, 1, 0, 0, 3, null), logits, 200));
        // ties at the top share the draw
        assertEquals(Set.of(0, 2), draws(params(1e-40, 0, 1, 0, 1, 0, 0, 3, null), new float[] {5f, 1f, 5f}, 200));
    }

    @Test
    void nanLogitsNeverWinAndInfiniteOnesTakeAllTheMass() {
        float[] nan = {Float.NaN, 1f, 2f};
        assertEquals(2, new LogitSampler(SamplingParams.GREEDY).sample(nan, 0, 3));
        assertEquals(Set.of(1, 2), draws(params(50, 0, 1, 0, 1, 0, 0, 3, null), nan, 300));
        float[] inf = {Float.POSITIVE_INFINITY, 1f, Float.POSITIVE_INFINITY};
        assertEquals(Set.of(0, 2), draws(params(1, 0, 1, 0, 1, 0, 0, 3, null), inf, 300));
        // a repetition penalty tiny enough to overflow a logit still samples a token
        LogitSampler rep = new LogitSampler(params(1, 0, 1, 0, 1e-300, 0, 0, 3, null));
        rep.observePrompt(new int[] {3});
        assertEquals(3, rep.sample(logits, 0, 5));
    }

    @Test
    void everyTokenBannedIsAnErrorNotAToken() {
        Map<Integer, Float> ban = new HashMap<>();
        for (int i = 0; i < 5; i++) ban.put(i, Float.NEGATIVE_INFINITY);
        for (double t : new double[] {0, 1}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LogitSampler(params(t, 0, 1, 0, 1, 0, 0, 0, ban)).sample(logits, 0, 5));
            assertTrue(e.getMessage().contains("no token can be sampled"), e.getMessage());
        }
    }

    @Test
    void logitBiasValuesMustBeFiniteOrABan() {
        for (float b : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            var e = assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 0, 1, 0, 0, 0, Map.of(2, b)));
            assertTrue(e.getMessage().startsWith("logit-bias for token 2"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 0, 1, 0, 0, 0, Map.of(-1, 1f)));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 0, 1, Double.NaN, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, 1, 0, 1, 0, Double.POSITIVE_INFINITY, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(Double.NaN, 0, 1, 0, 1, 0, 0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> params(1, 0, Double.NaN, 0, 1, 0, 0, 0, null));
    }
}
