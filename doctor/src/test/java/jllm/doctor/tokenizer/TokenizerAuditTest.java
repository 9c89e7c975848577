package jllm.doctor.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.doctor.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerAuditTest {
    @TempDir
    Path tmp;

    private static List<TokenizerAudit.Comparison> audit(Path model, List<Path> with) {
        List<String> skipped = new ArrayList<>();
        var reps = TokenizerAudit.representations(model, with, skipped::add);
        assertTrue(skipped.isEmpty(), skipped.toString());
        return TokenizerAudit.compare(reps, TokenizerAudit.corpus(reps.stream().map(TokenizerAudit.Representation::tokenizer).toList()));
    }

    @Test
    void consistentRepresentationsAgreeOnEveryString() {
        // Llama 2's SentencePiece model, its GGUF conversion, and llama.cpp's own vocabulary file of it.
        Path spm = Fixtures.root().resolve("llama2c/tokenizer.model");
        var c = audit(spm, List.of(Fixtures.root().resolve("llamacpp/vocab/ggml-vocab-llama-spm.gguf")));
        assertEquals(1, c.size());
        assertTrue(c.getFirst().disagreements().isEmpty(), c.toString());
        var cs = audit(Fixtures.root().resolve("tokenizers/llama3"), List.of());
        assertTrue(cs.size() >= 2);
        for (var x : cs) assertTrue(x.disagreements().isEmpty() && x.wrapperNote() == null, x.other() + " " + x.disagreements());
    }

    /**
     * A real disagreement: Qwen's tokenizer.json normalizes to NFC, the GGUF vocabulary llama.cpp
     * reads has no normalizer, so decomposed accents and reordered combining marks tokenize
     * differently there. Every disagreement must be one of those. Slow (a 151k vocabulary three
     * times): run with -Djllm.slowTests=true.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "jllm.slowTests", matches = "true")
    void qwenGgufVocabularySkipsNfc() {
        var c = audit(Fixtures.root().resolve("tokenizers/qwen3"), List.of()).stream().filter(x -> x.other().startsWith("GGUF")).findFirst().orElseThrow();
        assertTrue(!c.disagreements().isEmpty());
        for (var d : c.disagreements())
            assertTrue(!java.text.Normalizer.normalize(d.text(), java.text.Normalizer.Form.NFC).equals(d.text()), TokenizerAudit.escape(d.text()));
    }

    @Test
    void aMismatchedTokenizerModelIsReportedWithExamples() throws Exception {
        // tokenizer.json of one 32000-token vocabulary shipped beside another's tokenizer.model
        Path dir = Files.createDirectories(tmp.resolve("mixed"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(Fixtures.root().resolve("tokenizers/llama2/" + f), dir.resolve(f));
        Files.copy(Fixtures.root().resolve("llama2c/tokenizer.model"), dir.resolve("tokenizer.model"));
        var c = audit(dir, List.of()).stream().filter(x -> x.other().contains("tokenizer.model")).findFirst().orElseThrow();
        assertTrue(c.disagreements().size() > c.compared() / 2, c.disagreements().size() + " of " + c.compared());
        var d = c.disagreements().getFirst();
        assertTrue(d.reference() != null && d.other() != null && !java.util.Arrays.equals(d.reference(), d.other()));
    }

    @Test
    void aConfigSettingThatChangesTokenizationIsReported() throws Exception {
        // tokenizer_config.json asks for add_prefix_space=true on a byte-level BPE whose tokenizer.json has it off
        Path dir = Files.createDirectories(tmp.resolve("aps"));
        Files.copy(Fixtures.root().resolve("tokenizers/llama3/tokenizer.json"), dir.resolve("tokenizer.json"));
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Fixtures.root().resolve("tokenizers/llama3/tokenizer_config.json").toFile());
        cfg.put("add_prefix_space", true);
        Files.writeString(dir.resolve("tokenizer_config.json"), cfg.toString());
        var c = audit(dir, List.of()).stream().filter(x -> x.other().contains("add_prefix_space=true")).findFirst().orElseThrow();
        assertTrue(c.disagreements().stream().anyMatch(d -> d.text().equals("Hello world")), c.disagreements().toString());
    }
}
