package jllm.doctor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Config;
import jllm.model.RandomWeights;
import jllm.tensor.GgmlType;

/**
 * Small model releases for planting bugs: the llama2 fixture's geometry with a real 32000-token
 * vocabulary (the Mistral-style tokenizer of ../shared/fixtures/tokenizers/llama2), random weights,
 * a chat template. Each test edits one thing and expects the doctor to name it.
 */
public final class TestModels {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
            + "{% elif m['role'] == 'system' %}{{ m['content'] }}\n{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}";

    /** What a test may change before the files are written. */
    public static final class Release {
        public final ObjectNode config, generation, tokenizerConfig;
        public final Map<String, float[]> weights = new LinkedHashMap<>();
        public final Map<String, long[]> shapes = new LinkedHashMap<>();

        Release(ObjectNode config, ObjectNode generation, ObjectNode tokenizerConfig) {
            this.config = config;
            this.generation = generation;
            this.tokenizerConfig = tokenizerConfig;
        }

        /** Sets every value of row {@code r} of a [rows, cols] weight. */
        public void fillRow(String name, int r, float v) {
            int cols = (int) shapes.get(name)[1];
            java.util.Arrays.fill(weights.get(name), r * cols, (r + 1) * cols, v);
        }
    }

    private TestModels() {}

    public static Path release(Path dir, Consumer<Release> edit) throws IOException {
        Path fx = Fixtures.root();
        ObjectNode cfg = (ObjectNode) JSON.readTree(fx.resolve("hf/llama2/config.json").toFile());
        cfg.put("vocab_size", 32000);
        ObjectNode gen = (ObjectNode) JSON.readTree(fx.resolve("hf/llama2/generation_config.json").toFile());
        ObjectNode tc = (ObjectNode) JSON.readTree(fx.resolve("tokenizers/llama2/tokenizer_config.json").toFile());
        tc.put("chat_template", TEMPLATE);
        Release r = new Release(cfg, gen, tc);
        RandomWeights rw = new RandomWeights(new Config(cfg.deepCopy(), "test"), GgmlType.F32, 7, 2);
        for (String n : rw.names()) {
            r.weights.put(n, rw.tensor(n).toFloatArray());
            r.shapes.put(n, rw.info(n).shape());
        }
        edit.accept(r);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), r.config.toPrettyString());
        Files.writeString(dir.resolve("generation_config.json"), r.generation.toPrettyString());
        Files.writeString(dir.resolve("tokenizer_config.json"), r.tokenizerConfig.toPrettyString());
        Files.copy(fx.resolve("tokenizers/llama2/tokenizer.json"), dir.resolve("tokenizer.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        r.weights.forEach((n, v) -> w.addF32(n, v, r.shapes.get(n)));
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    /** A copy of a fixture directory with config.json edited. */
    public static Path fixtureWithConfig(String name, Path dir, Consumer<ObjectNode> edit) throws IOException {
        Path src = Fixtures.root().resolve("hf/" + name);
        Files.createDirectories(dir);
        try (var s = Files.list(src)) {
            for (Path p : s.toList()) if (!p.getFileName().toString().equals("reference.safetensors")) Files.copy(p, dir.resolve(p.getFileName()));
        }
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toPrettyString());
        return dir;
    }
}
