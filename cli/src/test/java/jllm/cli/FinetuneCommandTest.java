package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.train.peft.PeftAdapter;
import jllm.train.run.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** finetune → adapter files, metrics, chart, checkpoints; predict with the adapter; merge and export; bad inputs. */
class FinetuneCommandTest {
    @TempDir Path dir;

    static List<String> finetuneArgs(Path model, Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("finetune", "--model", model.toString(), "--data", data.toString(), "--prompt-template", TinyModel.TEMPLATE,
                "--output-column", "Survived", "--lora-r", "4", "--batch-size", "4", "--seed", "3", "--threads", "2", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    static CliTest.Run run(List<String> args) { return CliTest.run(args.toArray(String[]::new)); }

    @Test
    void finetunePredictMergeExport() throws Exception {
        Path model = TinyModel.make(dir), data = TinyModel.titanic(dir, 40), out = dir.resolve("ft");
        CliTest.Run r = run(finetuneArgs(model, data, out, "--max-steps", "6", "--eval-every", "3", "--lr", "1e-3"));
        assertEquals(0, r.code(), r.err());
        for (String f : List.of(PeftAdapter.CONFIG, PeftAdapter.WEIGHTS, MetricsLog.FILE, RunDisplay.CHART, RunRecord.FILE))
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; " + r.err());
        PeftAdapter a = PeftAdapter.read(out);
        assertEquals(4, a.config.r());
        assertTrue(a.promptFormat != null && a.promptFormat.input().promptTemplate().equals(TinyModel.TEMPLATE));
        List<JsonNode> m = MetricsLog.read(out.resolve(MetricsLog.FILE));
        assertEquals(6, m.stream().filter(n -> n.has("loss")).count());
        assertEquals(List.of(0L, 3L, 6L), m.stream().filter(n -> n.has("val_loss")).map(n -> n.get("step").asLong()).toList());
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-000003")), "checkpoint at the evaluation step");
        assertTrue(r.err().contains("validation loss"), r.err());

        Path rows = TinyModel.titanic(dir, 12), pred = dir.resolve("p.jsonl");
        CliTest.Run p = CliTest.run("predict", "--model", model.toString(), "--adapter", out.toString(), "--data", rows.toString(), "--out", pred.toString(),
                "--max-tokens", "4", "--threads", "2");
        assertEquals(0, p.code(), p.err());
        List<String> lines = Files.readAllLines(pred);
        assertEquals(12, lines.size());
        for (String l : lines) assertTrue(l.startsWith("{\"output\":"), l);
        assertTrue(p.out().strip().matches("exact_match=\\d\\.\\d{4} n=12"), p.out());
        // predict's bad inputs: an existing --out, rows without a column the recorded template names, no adapter there
        List<String> again = List.of("predict", "--model", model.toString(), "--adapter", out.toString(), "--data", rows.toString(), "--out", pred.toString());
        expect(again, "--overwrite");
        assertEquals(lines, Files.readAllLines(pred), "a refused predict leaves the earlier predictions as they were");
        Path noSex = Files.writeString(dir.resolve("nosex.csv"), "Pclass,Age,SibSp,Parch,Fare,Embarked,Survived\n1,22,1,0,7.25,S,0\n");
        expect(List.of("predict", "--model", model.toString(), "--adapter", out.toString(), "--data", noSex.toString(), "--out", dir.resolve("p2.jsonl").toString()), "Sex");
        expect(List.of("predict", "--model", model.toString(), "--adapter", dir.resolve("no-adapter").toString(), "--data", rows.toString(),
                "--out", dir.resolve("p3.jsonl").toString()), "no-adapter");
        assertFalse(Files.exists(dir.resolve("p2.jsonl")) || Files.exists(dir.resolve("p3.jsonl")));

        // merge, then generate: the same greedy tokens as generate --adapter
        Path merged = dir.resolve("merged");
        CliTest.Run mg = CliTest.run("merge", "--model", model.toString(), "--adapter", out.toString(), "--out", merged.toString());
        assertEquals(0, mg.code(), mg.err());
        assertTrue(Files.exists(merged.resolve("tokenizer.json")));
        CliTest.Run g1 = CliTest.run("generate", "--model", model.toString(), "--adapter", out.toString(), "--prompt", "Passenger: class 1, female", "--max-tokens", "24", "--print-ids");
        CliTest.Run g2 = CliTest.run("generate", "--model", merged.toString(), "--prompt", "Passenger: class 1, female", "--max-tokens", "24", "--print-ids");
        assertEquals(0, g1.code(), g1.err());
        assertEquals(g1.out(), g2.out());

        Path gguf = dir.resolve("x.gguf");
        CliTest.Run ex = CliTest.run("export", "--model", model.toString(), "--adapter", out.toString(), "--to", gguf.toString(), "--type", "f32", "--ollama");
        assertEquals(0, ex.code(), ex.err());
        assertTrue(Files.readString(dir.resolve("Modelfile")).contains("FROM ./x.gguf"));
        CliTest.Run g3 = CliTest.run("generate", "--model", gguf.toString(), "--prompt", "Passenger: class 1, female", "--max-tokens", "24", "--print-ids");
        assertEquals(g1.out(), g3.out(), "the exported GGUF generates what the adapter does");
    }

    @Test
    void badInputsAreOneLineErrors() throws Exception {
        Path model = TinyModel.make(dir);
        Path empty = Files.writeString(dir.resolve("empty.csv"), "");
        expect(finetuneArgs(model, empty, dir.resolve("o1")), "empty.csv");
        Path ragged = Files.writeString(dir.resolve("ragged.csv"), "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked,Survived\n1,male,22,1,0,7.25,S,0\n3,female,30\n");
        expect(finetuneArgs(model, ragged, dir.resolve("o2")), "ragged.csv:3");
        Path noCol = Files.writeString(dir.resolve("nocol.csv"), "Pclass,Age,SibSp,Parch,Fare,Embarked,Survived\n1,22,1,0,7.25,S,0\n");
        expect(finetuneArgs(model, noCol, dir.resolve("o3")), "Sex");
        Path latin = dir.resolve("latin.csv");
        Files.write(latin, "Pclass,Sex,Age,SibSp,Parch,Fare,Embarked,Survived\n1,m\u00e4le,22,1,0,7.25,S,0\n".getBytes(StandardCharsets.ISO_8859_1));
        expect(finetuneArgs(model, latin, dir.resolve("o4")), "UTF-8");
        Path notObj = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"hello there\"}\n[1, 2]\n");
        expect(List.of("finetune", "--model", model.toString(), "--data", notObj.toString(), "--out", dir.resolve("o5").toString()), "bad.jsonl:2");
        for (String o : List.of("o1", "o2", "o3", "o4", "o5")) assertFalse(Files.exists(dir.resolve(o)), o + ": a failed run leaves no output directory");

        Path data = TinyModel.titanic(dir, 20);
        Path existing = Files.createDirectories(dir.resolve("existing"));
        Files.writeString(existing.resolve("keep.txt"), "user data");
        expect(finetuneArgs(model, data, existing, "--max-steps", "1"), "--overwrite");
        assertEquals("user data", Files.readString(existing.resolve("keep.txt")));
        expect(finetuneArgs(model, data, Path.of("/proc/jllm-test-unwritable/out"), "--max-steps", "1"), "/proc/jllm-test-unwritable");
        expect(finetuneArgs(model, data, Path.of("/proc/jllm-test-unwritable"), "--max-steps", "1"), "/proc/jllm-test-unwritable");
    }

    static void expect(List<String> args, String inMessage) {
        CliTest.Run r = run(args);
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("error: ") && last.contains(inMessage), "expected one error line naming " + inMessage + ", got:\n" + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
