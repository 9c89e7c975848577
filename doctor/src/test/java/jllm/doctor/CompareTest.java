package jllm.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.generate.Generator;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.CpuBackend;
import jllm.tensor.F32Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareTest {
    @TempDir
    Path tmp;

    /**
     * The references were generated with min_new_tokens = T: EOS is banned for all T steps. A model
     * whose EOS becomes the argmax mid-way must still replay as a match (the rest of its logits are
     * unchanged), and must really stop there without the ban.
     */
    @Test
    void eosThatIsTheGreedyArgmaxBeforeTStepsReplaysAsMatch() {
        Path dir = Fixtures.root().resolve("hf/llama3");
        Model m = ModelLoader.load(dir, new CpuBackend(2), w -> { });
        SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"));
        int[] prompt = Arrays.stream(ref.longs("generate.prompt")).mapToInt(Math::toIntExact).toArray();
        int[] full = Arrays.stream(ref.longs("generate.output")).mapToInt(Math::toIntExact).toArray();
        int[] want = Arrays.copyOfRange(full, prompt.length, full.length);
        int eos = m.spec.eosIds[0], step = 3, V = m.spec.vocab, H = m.spec.hidden;
        assertTrue(want.length > step + 1 && Arrays.stream(want).noneMatch(t -> t == eos));
        // EOS's head row becomes twice the row of the token greedy picks at `step`: EOS wins there.
        float[] head = m.weights.lmHead.toFloatArray();
        for (int j = 0; j < H; j++) head[eos * H + j] = 2 * head[want[step] * H + j];
        m.weights.lmHead = F32Tensor.of(head, V, H);

        int[] unbanned = new Generator(m).generate(prompt, Generator.Request.greedy(want.length));
        int firstEos = -1;
        for (int i = 0; i < unbanned.length && firstEos < 0; i++) if (unbanned[i] == eos) firstEos = i;
        assertTrue(firstEos >= 0 && firstEos < want.length, "EOS is the argmax before T steps: " + Arrays.toString(unbanned));

        ReferenceCompare.Result r = ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1.0, Set.of(eos));
        assertEquals("match", r.greedy(), Arrays.toString(r.expected()) + " vs " + Arrays.toString(r.got()));
        assertEquals("match", ReferenceCompare.run(m, dir.resolve("reference.safetensors"), 1.0).greedy(), "config.json's eos is used by default");
    }

    @Test
    void minTokensBansEndIdsOnlyUntilTheMinimum() {
        Model m = ModelLoader.load(Fixtures.root().resolve("hf/qwen3"), new CpuBackend(2), w -> { });
        int[] prompt = {1, 5, 9};
        int[] free = new Generator(m).generate(prompt, Generator.Request.greedy(12));
        int banned = free[2];
        var req = new Generator.Request(12, jllm.generate.Sampler.GREEDY, Set.of(banned), null, null, null).withMinTokens(5, Set.of(banned));
        Generator.Result r = new Generator(m).session().generate(prompt, req);
        for (int i = 0; i < Math.min(5, r.ids().length); i++) assertTrue(r.ids()[i] != banned, Arrays.toString(r.ids()));
        assertTrue(r.ids().length >= 5, "cannot stop before the minimum");
    }

    @Test
    void safetensorsAndGgufOfOneModelAgreeLayerByLayer() {
        Path dir = Fixtures.root().resolve("hf/llama3");
        Model hf = ModelLoader.load(dir, new CpuBackend(2), w -> { });
        long[] ids = ModelCompare.randomIds(2, 12, hf.spec.vocab, 5);
        int[] prompt = {1, 17, 33, 4};
        for (var type : new GgufConverter.FileType[] {GgufConverter.FileType.F32, GgufConverter.FileType.Q8_0}) {
            Path out = tmp.resolve("llama3-" + type + ".gguf");
            GgufConverter.convert(dir, out, type, w -> { }, s -> { });
            Model g = ModelLoader.load(out, new CpuBackend(2), w -> { });
            ReferenceCompare.Result r = ModelCompare.run(hf, g, ids, 2, 12, prompt, 12, Set.of(2), 1e-5);
            assertEquals(hf.spec.layers + 2, r.rows().size());
            System.out.printf("llama3 safetensors vs gguf %s: max rel %.2e greedy %s%n", type, r.maxRel(), r.greedy());
            if (type == GgufConverter.FileType.F32) {
                assertTrue(r.pass(), "F32 GGUF equals the safetensors model: " + r.rows());
                assertEquals("match", r.greedy());
            } else {
                assertTrue(r.maxRel() > 1e-5 && r.maxRel() < 0.1, "Q8_0 rounding shows up, within its bound: " + r.maxRel());
            }
            byte[] png = ErrorChart.chart("llama3: gguf vs safetensors", "gguf " + type, r.rows(), 1e-5).png();
            assertTrue(png.length > 5000);
        }
    }
}
