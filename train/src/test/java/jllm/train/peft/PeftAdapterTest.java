package jllm.train.peft;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import jllm.formats.FormatException;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.tensor.DType;
import jllm.train.data.PromptFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    @TempDir Path dir;

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = Float.intBitsToFloat(r.nextInt()); // every bit pattern: NaN payloads, subnormals, -0
        return a;
    }

    static PeftAdapter sample(PromptFormat format) {
        SplittableRandom r = new SplittableRandom(5);
        List<LoraPair> layers = List.of(
                new LoraPair("model.layers.0.self_attn.q_proj", 4, 16, 16, random(r, 64), random(r, 64)),
                new LoraPair("model.layers.0.mlp.down_proj", 4, 40, 16, random(r, 160), random(r, 64)),
                new LoraPair("model.layers.1.self_attn.k_proj", 4, 16, 8, random(r, 64), random(r, 32)));
        LoraConfig cfg = new LoraConfig(4, 16, 0.05, List.of("q_proj", "k_proj", "down_proj"), false, List.of("lm_head"), "../shared/fixtures/hf/llama3");
        return new PeftAdapter(cfg, layers, List.of(new PeftAdapter.SavedTensor("lm_head.weight", new long[] {10, 16}, random(r, 160))), format);
    }

    static PromptFormat titanicFormat() {
        return PromptFormat.plain(null, true, "<|eos|>", new PromptFormat.Input(PromptFormat.Kind.TABLE, "Passenger: class {Pclass}[[, age {Age}]]. Survived:", "Survived", null));
    }

    @Test
    void reloadsBitExactly() {
        PeftAdapter a = sample(titanicFormat());
        a.write(dir.resolve("ad"), false, List.of());
        PeftAdapter b = PeftAdapter.read(dir.resolve("ad"));
        assertEquals(a.config, b.config);
        assertEquals(a.promptFormat, b.promptFormat);
        assertEquals(a.layers.keySet(), b.layers.keySet());
        for (LoraPair p : a.layers.values()) {
            LoraPair q = b.layers.get(p.module());
            assertEquals(List.of(p.r(), p.in(), p.out()), List.of(q.r(), q.in(), q.out()));
            assertBits(p.a(), q.a());
            assertBits(p.b(), q.b());
        }
        assertBits(a.saved.get("lm_head.weight").data(), b.saved.get("lm_head.weight").data());
    }

    static void assertBits(float[] x, float[] y) {
        assertEquals(x.length, y.length);
        for (int i = 0; i < x.length; i++) assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), "element " + i);
    }

    @Test
    void filesAreInPeftLayout() throws IOException {
        sample(titanicFormat()).write(dir.resolve("ad"), false, List.of());
        SafetensorsFile f = SafetensorsFile.open(dir.resolve("ad/adapter_model.safetensors"));
        assertEquals(Map.of("format", "pt"), f.metadata());
        assertEquals(Set.of("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
                "base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight",
                "base_model.model.lm_head.weight"), f.names());
        assertArrayEquals(new long[] {4, 40}, f.info("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").shape(), "A is [r, in]");
        assertArrayEquals(new long[] {16, 4}, f.info("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight").shape(), "B is [out, r]");
        assertEquals(DType.F32, f.info("base_model.model.lm_head.weight").dtype());
        JsonNode c = new ObjectMapper().readTree(dir.resolve("ad/adapter_config.json").toFile());
        assertEquals("LORA", c.get("peft_type").asText());
        assertEquals("CAUSAL_LM", c.get("task_type").asText());
        assertEquals(4, c.get("r").asInt());
        assertTrue(c.get("lora_alpha").isIntegralNumber(), "alpha 16 is written as an int like PEFT does");
        assertEquals(16, c.get("lora_alpha").asInt());
        assertEquals(0.05, c.get("lora_dropout").asDouble());
        assertEquals("[\"q_proj\",\"k_proj\",\"down_proj\"]", c.get("target_modules").toString());
        assertEquals("none", c.get("bias").asText());
        assertFalse(c.get("use_rslora").asBoolean());
        assertFalse(c.get("fan_in_fan_out").asBoolean());
        assertEquals("[\"lm_head\"]", c.get("modules_to_save").toString());
        assertEquals("../shared/fixtures/hf/llama3", c.get("base_model_name_or_path").asText());
        JsonNode pf = c.get("jllm").get("prompt_format");
        assertEquals("plain", pf.get("style").asText());
        assertEquals("Survived", pf.get("input").get("output_column").asText());
    }

    @Test
    void readsAPeftWrittenAdapterInBf16() throws IOException {
        Path d = Files.createDirectory(dir.resolve("peft"));
        Files.writeString(d.resolve("adapter_config.json"), """
                {"alpha_pattern": {}, "auto_mapping": null, "base_model_name_or_path": "meta-llama/Llama-3.2-1B", "bias": "none",
                 "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true, "layer_replication": null,
                 "layers_pattern": null, "layers_to_transform": null, "loftq_config": {}, "lora_alpha": 32, "lora_dropout": 0.0,
                 "megatron_config": null, "megatron_core": "megatron.core", "modules_to_save": null, "peft_type": "LORA", "r": 2,
                 "rank_pattern": {}, "revision": null, "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM",
                 "use_dora": false, "use_rslora": true}""");
        // bf16 1.0 = 0x3F80, -2.0 = 0xC000
        java.lang.foreign.MemorySegment a = java.lang.foreign.MemorySegment.ofArray(new byte[2 * 2 * 3]), b = java.lang.foreign.MemorySegment.ofArray(new byte[2 * 4 * 2]);
        for (int i = 0; i < 6; i++) a.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 2L * i, (short) 0x3F80);
        for (int i = 0; i < 8; i++) b.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 2L * i, (short) 0xC000);
        new SafetensorsWriter().metadata("format", "pt")
                .add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", DType.BF16, new long[] {2, 3}, a)
                .add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", DType.BF16, new long[] {4, 2}, b)
                .write(d.resolve("adapter_model.safetensors"));
        PeftAdapter ad = PeftAdapter.read(d);
        assertNull(ad.promptFormat);
        assertTrue(ad.config.useRslora());
        assertEquals(32 / Math.sqrt(2), ad.config.scale(), 1e-12);
        LoraPair p = ad.layers.get("model.layers.0.self_attn.q_proj");
        assertEquals(List.of(2, 3, 4), List.of(p.r(), p.in(), p.out()));
        assertEquals(1.0f, p.a()[5]);
        assertEquals(-2.0f, p.b()[7]);
    }

    @Test
    void unsupportedAdaptersAreNamed() throws IOException {
        sample(null).write(dir.resolve("ad"), false, List.of());
        Path cfg = dir.resolve("ad/adapter_config.json");
        String good = Files.readString(cfg);
        Files.writeString(cfg, good.replace("\"use_dora\" : false", "\"use_dora\" : true"));
        assertTrue(assertThrows(FormatException.class, () -> PeftAdapter.read(dir.resolve("ad"))).getMessage().contains("DoRA"));
        Files.writeString(cfg, good.replace("\"LORA\"", "\"IA3\""));
        assertTrue(assertThrows(FormatException.class, () -> PeftAdapter.read(dir.resolve("ad"))).getMessage().contains("only LoRA adapters"));
        Files.writeString(cfg, good.replace("\"r\" : 4", "\"r\" : 8"));
        assertTrue(assertThrows(FormatException.class, () -> PeftAdapter.read(dir.resolve("ad"))).getMessage().contains("but r is 8"));
        Files.writeString(cfg, "{not json");
        assertTrue(assertThrows(FormatException.class, () -> PeftAdapter.read(dir.resolve("ad"))).getMessage().contains("not valid JSON"));
        assertTrue(assertThrows(FormatException.class, () -> PeftAdapter.read(dir.resolve("nothing"))).getMessage().contains("not a directory"));
    }

    @Test
    void existingOrUnwritableOutputDirectoryIsRefused() throws IOException {
        PeftAdapter a = sample(null);
        a.write(dir.resolve("ad"), false, List.of());
        String m = assertThrows(FormatException.class, () -> a.write(dir.resolve("ad"), false, List.of())).getMessage();
        assertTrue(m.contains("already exists and is not empty; pass --overwrite"), m);
        a.write(dir.resolve("ad"), true, List.of());
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThrows(FormatException.class, () -> a.write(file.resolve("ad"), false, List.of()));
        Path ro = Files.createDirectory(dir.resolve("ro"));
        ro.toFile().setWritable(false, false);
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(ro), "running as root: permissions are not enforced");
            String m2 = assertThrows(FormatException.class, () -> a.write(ro.resolve("ad"), false, List.of())).getMessage();
            assertTrue(m2.contains("cannot create directory") || m2.contains("permission denied"), m2);
        } finally {
            ro.toFile().setWritable(true, false);
        }
    }
}
