package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorInfo;
import jllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert} and {@code quantize} write llama-quantize's type per tensor by default and one type
 * throughout with {@code --pure}: a tied model's token_embd (its LM head) is Q6_K's fallback Q8_0 at
 * hidden size 64 by default, Q4_0 with --pure; its layers are Q4_0 either way.
 */
class PureOptionTest {
    @TempDir Path tmp;

    private static Map<String, GgmlType> types(Path gguf) {
        Map<String, GgmlType> m = new HashMap<>();
        try (GgufFile f = GgufFile.open(gguf)) {
            for (GgufTensorInfo ti : f.tensors()) m.put(ti.name(), GgmlType.fromId(ti.ggmlType()));
        }
        return m;
    }

    @Test
    void pureKeepsTheLmHeadAtTheGivenType() {
        String tied = CliTest.fixtures().resolve("hf/llama32_tied").toString();
        Path mixed = tmp.resolve("mixed.gguf"), pure = tmp.resolve("pure.gguf"), f16 = tmp.resolve("f16.gguf"), requant = tmp.resolve("requant.gguf");
        assertEquals(0, CliTest.run("convert", tied, "--to", mixed.toString(), "--type", "q4_0").code());
        assertEquals(0, CliTest.run("convert", tied, "--to", pure.toString(), "--type", "q4_0", "--pure").code());
        assertEquals(GgmlType.Q8_0, types(mixed).get("token_embd.weight"));
        assertEquals(GgmlType.Q4_0, types(pure).get("token_embd.weight"));
        assertEquals(GgmlType.Q4_0, types(mixed).get("blk.0.attn_q.weight"));
        assertEquals(0, CliTest.run("convert", tied, "--to", f16.toString(), "--type", "f16").code());
        assertEquals(0, CliTest.run("quantize", f16.toString(), requant.toString(), "q4_0", "--pure").code());
        assertEquals(types(pure), types(requant));
        assertEquals(0, CliTest.run("quantize", f16.toString(), requant.toString(), "q4_0", "--overwrite").code());
        assertEquals(types(mixed), types(requant));
    }
}
