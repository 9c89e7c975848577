package jllm.doctor.lint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import jllm.doctor.ChatProbe;
import jllm.doctor.Finding;
import jllm.doctor.Fixtures;
import jllm.doctor.ModelFiles;
import jllm.doctor.TestModels;
import jllm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every lint code is shown on a release with that one bug planted; clean releases and all fixtures raise no error. */
class LintTest {
    @TempDir
    Path tmp;
    private int n;

    private List<Finding> lint(Path dir) {
        try (ModelFiles m = ModelFiles.open(dir)) {
            return Lint.run(m);
        }
    }

    private List<Finding> planted(Consumer<TestModels.Release> edit) throws IOException {
        return lint(TestModels.release(tmp.resolve("m" + (n++)), edit));
    }

    private static Finding find(List<Finding> fs, String code, Finding.Severity sev) {
        return fs.stream().filter(f -> f.code().equals(code) && f.severity() == sev).findFirst()
                .orElseThrow(() -> new AssertionError("no " + sev + " " + code + " in " + fs));
    }

    static Stream<Path> fixtures() throws IOException {
        return Files.list(Fixtures.root().resolve("hf")).filter(Files::isDirectory).sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixturesHaveNoErrorsOrWarnings(Path dir) {
        List<Finding> fs = lint(dir);
        assertTrue(fs.stream().allMatch(f -> f.severity() == Finding.Severity.INFO), dir.getFileName() + ": " + fs);
    }

    @Test
    void cleanReleaseHasNoErrorsOrWarnings() throws IOException {
        List<Finding> fs = planted(r -> { });
        assertTrue(fs.stream().allMatch(f -> f.severity() == Finding.Severity.INFO), fs.toString());
        // The template writes BOS and the tokenizer adds it: the double-BOS pitfall is explained, not an error.
        find(fs, "double-bos", Finding.Severity.INFO);
    }

    @Test
    void padEqualsEos() throws IOException {
        Finding f = find(planted(r -> r.config.put("pad_token_id", 2)), "pad-equals-eos", Finding.Severity.WARNING);
        assertTrue(f.message().contains("never learns to stop"), f.message());
    }

    @Test
    void missingPadToken() throws IOException {
        find(planted(r -> { r.config.remove("pad_token_id"); r.generation.remove("pad_token_id"); }), "missing-pad-token", Finding.Severity.WARNING);
    }

    @Test
    void slidingWindowOffByOne() throws IOException {
        Finding f = find(planted(r -> { r.config.put("model_type", "mistral"); r.config.put("sliding_window", 2047); }),
                "sliding-window-off-by-one", Finding.Severity.WARNING);
        assertTrue(f.fix().contains("2048"), f.fix());
        assertTrue(planted(r -> { r.config.put("model_type", "mistral"); r.config.put("sliding_window", 2048); }).stream()
                .noneMatch(x -> x.code().equals("sliding-window-off-by-one")));
    }

    @Test
    void untrainedTokensUsedByTheTemplateAreAnErrorOthersAWarning() throws IOException {
        Path tokDir = Fixtures.root().resolve("tokenizers/llama2");
        Tokenizer tok = Tokenizer.load(tokDir);
        int used = new ChatProbe(TestModels.TEMPLATE, tok).idsUsed().stream().filter(id -> id > 2).findFirst().orElseThrow();
        List<Finding> fs = planted(r -> {
            for (String w : List.of("model.embed_tokens.weight", "lm_head.weight")) {
                r.fillRow(w, used, 0f);
                r.fillRow(w, 31000, 0f);
                r.fillRow(w, 2, 0f); // eos: expected in base models, information only
            }
        });
        Finding err = find(fs, "untrained-tokens", Finding.Severity.ERROR);
        assertTrue(err.message().contains(Integer.toString(used)), err.message());
        assertTrue(find(fs, "untrained-tokens", Finding.Severity.WARNING).message().contains("31000"));
        assertTrue(find(fs, "untrained-tokens", Finding.Severity.INFO).message().contains("[eos]"));
    }

    @Test
    void untrainedRowsWithADuplicatedHeadAreFoundToo() throws IOException {
        // Llama 3.1's case: the embedding row is zero but the head row is a shared non-zero value.
        List<Finding> fs = planted(r -> {
            r.fillRow("model.embed_tokens.weight", 30000, 0f);
            r.fillRow("model.embed_tokens.weight", 30001, 0f);
            r.fillRow("lm_head.weight", 30000, 0.0123f);
            r.fillRow("lm_head.weight", 30001, 0.0123f);
        });
        Finding f = find(fs, "untrained-tokens", Finding.Severity.WARNING);
        assertTrue(f.message().contains("30000") && f.message().contains("30001"), f.message());
    }

    @Test
    void doubleAndMissingBos() throws IOException {
        find(planted(r -> { }), "double-bos", Finding.Severity.INFO);
        List<Finding> fs = planted(r -> {
            r.tokenizerConfig.put("add_bos_token", false);
            r.tokenizerConfig.put("chat_template", TestModels.TEMPLATE.replace("{{ bos_token }}", ""));
        });
        find(fs, "missing-bos", Finding.Severity.WARNING);
        Path dir = TestModels.release(tmp.resolve("m2"), r -> r.tokenizerConfig.put("chat_template", TestModels.TEMPLATE.replace("{{ bos_token }}", "")));
        find(lint(dir), "missing-bos", Finding.Severity.WARNING); // tokenizer(text) adds BOS, apply_chat_template would not
    }

    @Test
    void vocabSizeMismatch() throws IOException {
        Finding f = find(planted(r -> r.config.put("vocab_size", 32010)), "vocab-size-mismatch", Finding.Severity.ERROR);
        assertTrue(f.message().contains("32010") && f.message().contains("32000"), f.message());
    }

    @Test
    void tokenizerLargerThanTheEmbedding() throws IOException {
        List<Finding> fs = planted(r -> {
            r.config.put("vocab_size", 31000);
            for (String w : List.of("model.embed_tokens.weight", "lm_head.weight")) {
                r.weights.put(w, java.util.Arrays.copyOf(r.weights.get(w), 31000 * 64));
                r.shapes.put(w, new long[] {31000, 64});
            }
        });
        assertTrue(find(fs, "vocab-size-mismatch", Finding.Severity.ERROR).message().contains("tokenizer"));
    }

    @Test
    void tiedEmbeddingsMismatch() throws IOException {
        find(planted(r -> r.config.put("tie_word_embeddings", true)), "tied-embeddings-mismatch", Finding.Severity.ERROR);
        find(planted(r -> r.weights.put("lm_head.weight", r.weights.get("model.embed_tokens.weight").clone())), "tied-embeddings-mismatch", Finding.Severity.INFO);
    }

    @Test
    void eosMismatch() throws IOException {
        Finding f = find(planted(r -> r.generation.put("eos_token_id", 13)), "eos-mismatch", Finding.Severity.ERROR);
        assertTrue(f.message().contains("</s>") && f.fix().contains("2"), f.message());
    }

    @Test
    void ropeConfigSuspicious() throws IOException {
        List<Finding> fs = planted(r -> {
            var rp = r.config.putObject("rope_parameters");
            rp.put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 4.0).put("high_freq_factor", 1.0)
                    .put("original_max_position_embeddings", 32).put("rope_theta", 500000.0);
        });
        assertTrue(find(fs, "rope-config-suspicious", Finding.Severity.ERROR).message().contains("low_freq_factor"));
        find(planted(r -> r.config.putObject("rope_parameters").put("rope_type", "linear").put("factor", 0.5).put("rope_theta", 10000.0)),
                "rope-config-suspicious", Finding.Severity.WARNING);
    }

    @Test
    void chatTemplateError() throws IOException {
        find(planted(r -> r.tokenizerConfig.put("chat_template", "{% for m in messages %}{{ m['content'] }}")), "chat-template-error", Finding.Severity.ERROR);
        find(planted(r -> r.tokenizerConfig.put("chat_template", "{{ messages[0]['content'] | no_such_filter }}")), "chat-template-error", Finding.Severity.ERROR);
    }

    @Test
    void nanOrInfWeights() throws IOException {
        Finding f = find(planted(r -> {
            r.weights.get("model.layers.1.mlp.down_proj.weight")[5] = Float.NaN;
            r.weights.get("model.layers.0.self_attn.q_proj.weight")[7] = Float.POSITIVE_INFINITY;
        }), "nan-or-inf-weights", Finding.Severity.ERROR);
        assertTrue(f.message().contains("model.layers.1.mlp.down_proj.weight (1 NaN, 0 Inf)") && f.message().contains("q_proj.weight (0 NaN, 1 Inf)"), f.message());
    }

    @Test
    void fusedProjectionsOnPhi3() {
        Finding f = find(lint(Fixtures.root().resolve("hf/phi3")), "fused-projections", Finding.Severity.INFO);
        assertTrue(f.message().contains("q/k/v") && f.message().contains("gate/up"), f.message());
        assertFalse(lint(Fixtures.root().resolve("hf/llama2")).stream().anyMatch(x -> x.code().equals("fused-projections")));
    }

    @Test
    void gemmaWithExactGelu() throws IOException {
        Path dir = TestModels.fixtureWithConfig("gemma", tmp.resolve("g"), c -> { c.remove("hidden_activation"); c.put("hidden_act", "gelu"); });
        find(lint(dir), "activation-mismatch", Finding.Severity.WARNING);
    }

    @Test
    void jsonOutputHasTheStableShape() throws Exception {
        String json = Finding.json(planted(r -> r.config.put("pad_token_id", 2)));
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        var f = root.get("findings").get(0);
        List<String> keys = new java.util.ArrayList<>();
        f.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("code", "severity", "message", "fix"), keys);
        assertEquals("warning", f.get("severity").asText());
    }
}
