package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Config;
import jllm.model.RandomWeights;
import jllm.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny random model with the real Llama 3 tokenizer and chat template, driven through the CLI. */
class ChatTest {
    @TempDir
    Path dir;

    Path tinyLlama3() throws Exception {
        return tinyLlama3(dir);
    }

    /** Writes the tiny model, with the Llama 3 tokenizer and chat template, into {@code dir}. */
    static Path tinyLlama3(Path dir) throws Exception {
        String cfg = """
            {"model_type": "llama", "vocab_size": 128256, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
             "num_key_value_heads": 1, "intermediate_size": 64, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5,
             "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128009]}""";
        Config c = Config.of(cfg);
        RandomWeights rw = new RandomWeights(c, GgmlType.F32, 3, 1);
        SafetensorsWriter w = new SafetensorsWriter();
        for (String n : rw.names()) w.add(n, rw.info(n).dtype(), rw.info(n).shape(), rw.tensor(n).segment());
        w.write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), cfg);
        Path tok = CliTest.fixtures().resolve("tokenizers/llama3");
        Files.copy(tok.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(tok.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    @Test
    void twoTurnsReuseTheCacheAndEndAtEof() throws Exception {
        Path m = tinyLlama3();
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream("Hello there\n\nWhat is 2+2?\n".getBytes(StandardCharsets.UTF_8)));
            CliTest.Run r = CliTest.run("chat", "--model", m.toString(), "--max-tokens", "5", "--stats", "--system", "Be brief.", "--threads", "1");
            assertEquals(0, r.code(), r.err());
            String[] stats = r.err().lines().filter(l -> l.startsWith("[")).toArray(String[]::new);
            assertEquals(2, stats.length, r.err());
            assertTrue(stats[0].contains(" 0 reused"), stats[0]);
            // the second turn's prompt starts with the first turn (system, user, assistant reply): only the new part runs
            int reused = Integer.parseInt(stats[1].replaceAll(".*, (\\d+) reused.*", "$1"));
            assertTrue(reused >= 15, stats[1]); // up to the assistant reply, whose re-tokenisation may differ
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void aHostileChatTemplateEndsTheChatWithOneLineAndExitThree() throws Exception {
        Path m = tinyLlama3();
        InputStream old = System.in;
        try {
            for (String bomb : java.util.List.of("{{ 'ß' * 10**9 }}", "{% for m in messages %}{{ m.content * 10**8 }}{% endfor %}",
                    "{% macro r() %}{{ r() }}{% endmacro %}{{ r() }}", "{{ raise_exception('no system prompts') }}")) {
                Path t = Files.writeString(dir.resolve("bomb.jinja"), bomb);
                System.setIn(new ByteArrayInputStream("Hello\n".getBytes(StandardCharsets.UTF_8)));
                CliTest.Run r = CliTest.run("chat", "--model", m.toString(), "--chat-template", t.toString(), "--max-tokens", "2", "--threads", "1");
                assertEquals(3, r.code(), bomb + ": " + r.err());
                assertTrue(r.err().startsWith("error: chat template: ") && r.err().strip().lines().count() == 1, r.err());
            }
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void textPromptsAreTokenizedAndDecoded() throws Exception {
        Path m = tinyLlama3();
        CliTest.Run r = CliTest.run("generate", "--model", m.toString(), "--prompt", "The capital of France is", "--max-tokens", "4", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        CliTest.Run ids = CliTest.run("generate", "--model", m.toString(), "--prompt", "The capital of France is", "--max-tokens", "4", "--print-ids", "--threads", "1");
        String[] gen = ids.out().trim().split(" ");
        assertEquals(4, gen.length);
        var tok = jllm.tokenizer.Tokenizer.load(m);
        String want = tok.decode(java.util.Arrays.stream(gen).mapToInt(Integer::parseInt).toArray(), true);
        assertEquals(want, r.out().substring(0, r.out().length() - 1));
    }
}
