package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.train.TokenizerTrainer;
import jllm.train.Fixtures;
import jllm.train.peft.LoraConfig;
import jllm.train.peft.LoraPair;
import jllm.train.peft.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict formats rows exactly as training did, from nothing but the adapter's recorded format. */
class PredictionTest {
    @TempDir Path dir;

    static void samePromptAsTraining(Tokenizer tok, String chatTemplate, Path dir) throws IOException {
        TrainingData.Options o = TrainingData.Options.of(Fixtures.dataset("titanic-train.csv"), 512).table(PromptTemplateTest.TITANIC, "Survived");
        DatasetReader.Table table = DatasetReader.read(o.data());
        PromptFormat format = TrainingData.formatFor(tok, chatTemplate, "2026-01-15T12:00:00", null,
                RowFormatter.detect(table, o.promptTemplate(), o.outputColumn(), null));
        // The format travels through an adapter's config, as it would between finetune and predict.
        new PeftAdapter(new LoraConfig(1, 1, 0, List.of("q_proj"), false, null, null),
                List.of(new LoraPair("model.layers.0.self_attn.q_proj", 1, 2, 2, new float[2], new float[2])), List.of(), format)
                .write(dir.resolve("ad"), false, List.of());
        PromptFormat recorded = PeftAdapter.read(dir.resolve("ad")).promptFormat;
        assertEquals(format, recorded);

        // Unseen rows without the answer column: same prompts as training built for those rows.
        List<String> lines = Files.readAllLines(o.data());
        Path other = dir.resolve("other.csv");
        StringBuilder b = new StringBuilder("PassengerId,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n");
        DatasetReader.Table src = DatasetReader.read(o.data());
        for (Row r : src.rows().subList(0, 40)) {
            List<String> cells = List.of("PassengerId", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked")
                    .stream().map(c -> "\"" + r.text(c).replace("\"", "\"\"") + "\"").toList();
            b.append(String.join(",", cells)).append('\n');
        }
        Files.writeString(other, b.toString());
        List<PredictionInputs.Item> items = PredictionInputs.load(other, recorded, tok);
        assertEquals(40, items.size());
        ExampleEncoder enc = new ExampleEncoder(format, tok);
        RowFormatter rf = new RowFormatter(format.input(), null);
        for (int i = 0; i < 40; i++) {
            ExampleEncoder.Encoded trained = enc.encode(rf.example(src.rows().get(i)).example(), false);
            int[] prompt = items.get(i).promptIds();
            assertArrayEquals(prompt, Arrays.copyOf(trained.ids(), prompt.length), "row " + i);
            assertEquals(ExampleEncoder.IGNORE, trained.labels()[prompt.length - 1]);
            assertNotEquals(ExampleEncoder.IGNORE, trained.labels()[prompt.length], "training's response starts right after the prompt");
            assertNull(items.get(i).expected());
        }
        List<PredictionInputs.Item> labelled = PredictionInputs.load(o.data(), recorded, tok);
        assertEquals("0", labelled.get(0).expected());
        assertTrue(lines.size() > 700);
    }

    @Test
    void plainFormat() throws IOException {
        Tokenizer tok = TokenizerTrainer.train(TextFile.readUtf8(Fixtures.dataset("tinyshakespeare.txt")).substring(0, 300_000),
                TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 400), null).load();
        samePromptAsTraining(tok, null, dir);
    }

    @Test
    void chatTemplateFormat() throws IOException {
        Tokenizer tok = Fixtures.tokenizer("gemma3");
        samePromptAsTraining(tok, tok.chatTemplate().orElseThrow(), dir);
    }

    @Test
    void outputFileHasOneJsonLinePerRowInOrder() throws IOException {
        Path out = PredictionOutput.writeJsonl(dir.resolve("p.jsonl"), false, List.of(), List.of("1", " 0\n", "say \"hi\""));
        assertEquals(List.of("{\"output\":\"1\"}", "{\"output\":\" 0\\n\"}", "{\"output\":\"say \\\"hi\\\"\"}"), Files.readAllLines(out));
        assertThrows(jllm.formats.FormatException.class, () -> PredictionOutput.writeJsonl(out, false, List.of(), List.of("x")));
    }

    @Test
    void exactMatchNormalisesOnlyOuterWhitespace() {
        ExactMatch.Score s = ExactMatch.score(List.of(" 1", "0\n", "Yes", "1", "x"), Arrays.asList("1", "0", "yes", "", null));
        assertEquals(2, s.matches());
        assertEquals(3, s.n());
        assertEquals("exact_match=0.6667 n=3", s.line());
    }
}
