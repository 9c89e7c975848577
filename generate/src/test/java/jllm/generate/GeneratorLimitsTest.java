package jllm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import jllm.model.Model;
import jllm.model.Presets;
import jllm.model.RandomWeights;
import jllm.tensor.CpuBackend;
import jllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;

/** The context length is a limit users rely on; prompts and sampling knobs are checked against the model. */
class GeneratorLimitsTest {
    /** tiny-llama: context 256 tokens, vocabulary 96. */
    static final Model MODEL = RandomWeights.model(Presets.config("tiny-llama"), GgmlType.F32, 1, new CpuBackend(1));

    static Generator.Request request(int maxTokens, boolean overflow) {
        return new Generator.Request(maxTokens, Sampler.GREEDY, Set.of(), List.of(), null, null, null, overflow);
    }

    @Test
    void generationStopsAtTheContextLength() {
        Generator g = new Generator(MODEL);
        assertEquals(256, g.contextLength());
        Generator.Result r = g.session().generate(new int[] {1, 2, 3}, request(1000, false));
        assertEquals(253, r.ids().length);
        assertEquals("context", r.finishReason());
        // within the context the budget is the request's own
        r = g.session().generate(new int[] {1, 2, 3}, request(10, false));
        assertEquals(10, r.ids().length);
        assertEquals("length", r.finishReason());
        // asking for exactly what fits gives all of it, and the request's own limit is the reason
        assertEquals("length", g.session().generate(new int[] {1, 2, 3}, request(253, false)).finishReason());
    }

    @Test
    void runningPastTheContextNeedsToBeAskedFor() {
        Generator g = new Generator(MODEL);
        Generator.Result r = g.session().generate(new int[] {1}, request(300, true));
        assertEquals(300, r.ids().length);
        assertEquals("length", r.finishReason());
        int[] longPrompt = new int[257];
        var e = assertThrows(IllegalArgumentException.class, () -> g.session().generate(longPrompt, request(1, false)));
        assertTrue(e.getMessage().contains("257 tokens") && e.getMessage().contains("context length of 256"), e.getMessage());
        assertEquals(1, g.session().generate(longPrompt, request(1, true)).ids().length);
        // a prompt that fills the context leaves no room
        Generator.Result full = g.session().generate(new int[256], request(5, false));
        assertEquals(0, full.ids().length);
        assertEquals("context", full.finishReason());
    }

    @Test
    void aChatSessionStopsWhenTheConversationFillsTheContext() {
        Generator.Session s = new Generator(MODEL).session();
        int[] turn = new int[200];
        Generator.Result r = s.generate(turn, request(100, false));
        assertEquals(56, r.ids().length);
        assertEquals("context", r.finishReason());
    }

    @Test
    void promptIdsOutsideTheVocabularyAreRefused() {
        Generator g = new Generator(MODEL);
        for (int bad : new int[] {-1, 96, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            var e = assertThrows(IllegalArgumentException.class, () -> g.session().generate(new int[] {1, bad}, request(1, false)));
            assertTrue(e.getMessage().contains("prompt token 2 (id " + bad + ") is outside the vocabulary (0..95)"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> g.session().generate(new int[0], request(1, false)));
        assertTrue(e.getMessage().contains("empty prompt"), e.getMessage());
    }

    @Test
    void logitBiasIdsMustBeInTheVocabulary() {
        var sampler = new LogitSampler(new SamplingParams(0.7, 0, 1, 0, 1, 0, 0, 1, java.util.Map.of(96, 1f)));
        var req = new Generator.Request(5, sampler, Set.of(), List.of(), null, null);
        var e = assertThrows(IllegalArgumentException.class, () -> new Generator(MODEL).session().generate(new int[] {1}, req));
        assertTrue(e.getMessage().contains("token id 96 is outside the vocabulary (0..95)"), e.getMessage());
    }
}
