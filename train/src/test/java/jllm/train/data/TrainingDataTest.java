package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.train.TokenizerTrainer;
import jllm.train.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole path from a dataset file to packed rows, on the Titanic table and small JSONL files. */
class TrainingDataTest {
    static Tokenizer shakespeare;
    @TempDir Path dir;

    /** A tokenizer like the default model's: byte-level BPE learned on Tiny Shakespeare, no chat template. */
    @BeforeAll
    static void tokenizer() {
        String text = TextFile.readUtf8(Fixtures.dataset("tinyshakespeare.txt"));
        shakespeare = TokenizerTrainer.train(text, TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 512), null).load();
    }

    static TrainingData.Options titanic(int maxSeq) {
        return TrainingData.Options.of(Fixtures.dataset("titanic-train.csv"), maxSeq).table(PromptTemplateTest.TITANIC, "Survived");
    }

    @Test
    void titanicPlainFormat() {
        List<String> warnings = new ArrayList<>();
        TrainingData d = TrainingData.build(titanic(256).split(0.1, 1), shakespeare, null, warnings::add);
        TrainingData.Stats s = d.stats();
        assertEquals(700, s.rows());
        assertEquals(700, s.examples());
        assertEquals(0, s.skipped() + s.dropped());
        assertEquals(PromptFormat.Style.PLAIN, d.format().style());
        assertEquals("Survived", d.format().input().outputColumn());
        assertEquals(List.of(), warnings.stream().filter(w -> !w.contains(">= 90%")).toList(), "only the mostly-masked note");
        assertEquals(700, s.mostlyMasked(), "short answers: every example is mostly prompt");
        int valExamples = d.validation().stream().mapToInt(r -> r.exampleStarts().length).sum();
        int trainExamples = d.train().stream().mapToInt(r -> r.exampleStarts().length).sum();
        assertEquals(70, valExamples);
        assertEquals(630, trainExamples);
        long targets = 0;
        for (PackedRow r : concat(d.train(), d.validation())) {
            checkRow(r, 256);
            targets += r.targetCount();
            // every example's trained part decodes to " 0" or " 1" followed by eos
            for (int k = 0; k < r.exampleStarts().length; k++) {
                int from = r.exampleStarts()[k], to = k + 1 < r.exampleStarts().length ? r.exampleStarts()[k + 1] : r.length();
                StringBuilder trained = new StringBuilder();
                for (int i = from; i < to; i++) if (r.labels()[i] != ExampleEncoder.IGNORE) trained.append(shakespeare.decode(new int[] {r.tokens()[i]}));
                assertTrue(trained.toString().equals(" 0<|eos|>") || trained.toString().equals(" 1<|eos|>"), trained.toString());
            }
        }
        assertEquals(s.trainedTokens(), targets, "every trained label is some token's next-token target");
        assertTrue(d.train().size() < 630 / 2, "short examples are packed several to a row: " + d.train().size());
    }

    /** Positions restart per example, segments number the examples, no target crosses into the next example. */
    static void checkRow(PackedRow r, int maxSeq) {
        assertTrue(r.length() <= maxSeq);
        int[] t = r.targets();
        for (int i = 0; i < r.length(); i++) {
            boolean start = Arrays.binarySearch(r.exampleStarts(), i) >= 0;
            assertEquals(start, r.positions()[i] == 0, "position restarts exactly at example starts");
            if (i > 0) assertEquals(r.segments()[i - 1] + (start ? 1 : 0), r.segments()[i]);
            if (i + 1 < r.length() && r.segments()[i + 1] != r.segments()[i]) assertEquals(ExampleEncoder.IGNORE, t[i]);
        }
    }

    static List<PackedRow> concat(List<PackedRow> a, List<PackedRow> b) {
        List<PackedRow> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void titanicChatTemplate() {
        Tokenizer qwen = Fixtures.tokenizer("qwen3");
        TrainingData d = TrainingData.build(titanic(256), qwen, qwen.chatTemplate().orElseThrow(), w -> { });
        assertEquals(PromptFormat.Style.CHAT_TEMPLATE, d.format().style());
        Set<String> trained = new HashSet<>();
        for (PackedRow r : d.train()) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length(); i++) {
                if (r.labels()[i] == ExampleEncoder.IGNORE) continue;
                b.append(qwen.decode(new int[] {r.tokens()[i]}));
                if (i + 1 == r.length() || r.segments()[i + 1] != r.segments()[i]) { trained.add(b.toString()); b.setLength(0); }
            }
        }
        assertEquals(Set.of("<think>\n\n</think>\n\n0<|im_end|>\n", "<think>\n\n</think>\n\n1<|im_end|>\n"), trained);
    }

    @Test
    void sameSeedSameRowsOtherSeedOtherSplit() {
        TrainingData a = TrainingData.build(titanic(128).split(0.2, 7), shakespeare, null, w -> { });
        TrainingData b = TrainingData.build(titanic(128).split(0.2, 7), shakespeare, null, w -> { });
        TrainingData c = TrainingData.build(titanic(128).split(0.2, 8), shakespeare, null, w -> { });
        assertEquals(a.train().size(), b.train().size());
        for (int i = 0; i < a.train().size(); i++) assertArrayEquals(a.train().get(i).tokens(), b.train().get(i).tokens());
        assertFalse(Arrays.equals(a.validation().get(0).tokens(), c.validation().get(0).tokens()));
        assertArrayEquals(a.epochOrder(3), b.epochOrder(3));
        assertFalse(Arrays.equals(a.epochOrder(0), a.epochOrder(1)));
        int[] o = a.epochOrder(2).clone();
        Arrays.sort(o);
        for (int i = 0; i < o.length; i++) assertEquals(i, o[i], "an epoch visits every row once");
    }

    @Test
    void tooLongExamplesAreDroppedAndCounted() {
        List<Integer> lengths = new ArrayList<>();
        for (PackedRow r : TrainingData.build(titanic(512), shakespeare, null, w -> { }).train()) {
            int[] st = r.exampleStarts();
            for (int k = 0; k < st.length; k++) lengths.add((k + 1 < st.length ? st[k + 1] : r.length()) - st[k]);
        }
        java.util.Collections.sort(lengths);
        int median = lengths.get(lengths.size() / 2);
        List<String> warnings = new ArrayList<>();
        TrainingData d = TrainingData.build(titanic(median), shakespeare, null, warnings::add);
        assertTrue(d.stats().dropped() > 0 && d.stats().examples() > 0, d.stats().toString());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("dropped " + d.stats().dropped() + " example(s) longer than --max-seq " + median)), warnings.toString());
        String m = assertThrows(DatasetException.class, () -> TrainingData.build(titanic(8), shakespeare, null, w -> { })).getMessage();
        assertTrue(m.contains("every example is longer than --max-seq 8 (the shortest has"), m);
    }

    @Test
    void longTextIsSplitNotLost() throws IOException {
        Path p = dir.resolve("t.jsonl");
        Files.writeString(p, "{\"text\": \"First Citizen: Before we proceed any further, hear me speak. All: Speak, speak.\"}\n{\"text\": \"Short.\"}\n");
        List<String> warnings = new ArrayList<>();
        TrainingData d = TrainingData.build(TrainingData.Options.of(p, 16), shakespeare, null, warnings::add);
        assertEquals(1, d.stats().split());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("split 1 text example(s)")), warnings.toString());
        long tokens = d.train().stream().mapToLong(PackedRow::length).sum();
        assertEquals(d.stats().tokens(), tokens, "no token lost");
        for (PackedRow r : d.train()) checkRow(r, 16);
    }

    @Test
    void skippedRowsAreReportedWithTheirLines() throws IOException {
        Path p = dir.resolve("a.jsonl");
        Files.writeString(p, "{\"instruction\": \"a\", \"output\": \"x\"}\n{\"instruction\": \"b\", \"output\": \"\"}\n{\"instruction\": \"c\", \"output\": \" \"}\n");
        List<String> warnings = new ArrayList<>();
        TrainingData d = TrainingData.build(TrainingData.Options.of(p, 64), shakespeare, null, warnings::add);
        assertEquals(2, d.stats().skipped());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("skipped 2 row(s) with an empty response (lines 2, 3)")), warnings.toString());
        Path empty = dir.resolve("b.jsonl");
        Files.writeString(empty, "{\"text\": \"\"}\n");
        assertTrue(assertThrows(DatasetException.class, () -> TrainingData.build(TrainingData.Options.of(empty, 64), shakespeare, null, w -> { }))
                .getMessage().contains("no example has anything to train on"));
    }

    @Test
    void emptyRequiredColumnIsCounted() throws IOException {
        Path p = dir.resolve("t.csv");
        Files.writeString(p, "q,a\nhello,yes\n,no\n");
        List<String> warnings = new ArrayList<>();
        TrainingData.build(TrainingData.Options.of(p, 64).table("Q: {q}", "a"), shakespeare, null, warnings::add);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("1 row(s) have an empty {q} outside [[ ]]")), warnings.toString());
    }

    @Test
    void anExampleWithEveryLabelMaskedIsAnError() {
        Row row = new Row("d.jsonl", 4, new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());
        var e = new ExampleEncoder.Encoded(row, new int[] {1, 2, 3}, new int[] {-100, -100, -100}, false);
        assertTrue(assertThrows(DatasetException.class, () -> TrainingData.requireTrainedTokens(e)).getMessage()
                .startsWith("d.jsonl:4: every token of this example is masked"));
    }

    @Test
    void missingColumnAndRaggedRowFailBeforeTraining() throws IOException {
        String m = assertThrows(DatasetException.class, () -> TrainingData.build(
                TrainingData.Options.of(Fixtures.dataset("titanic-train.csv"), 64).table("{Class}: {Sex}", "Survived"), shakespeare, null, w -> { })).getMessage();
        assertTrue(m.contains("{Class}") && m.contains("available columns: PassengerId"), m);
        Path p = dir.resolve("r.csv");
        Files.writeString(p, "q,a\nhello,yes\nbye\n");
        assertTrue(assertThrows(DatasetException.class, () -> TrainingData.build(TrainingData.Options.of(p, 64).table("{q}", "a"), shakespeare, null, w -> { }))
                .getMessage().contains("r.csv:3: row has 1 field but the header has 2"));
    }
}
