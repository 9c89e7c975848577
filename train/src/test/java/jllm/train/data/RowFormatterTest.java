package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each dataset shape becomes the same kind of conversation, for training and for prediction. */
class RowFormatterTest {
    static DatasetReader.Table jsonl(String text) { return DatasetReader.parse("d.jsonl", DatasetReader.Format.JSONL, text); }

    static List<Message> conv(String... roleContent) {
        List<Message> out = new java.util.ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) out.add(new Message(roleContent[i], roleContent[i + 1]));
        return out;
    }

    static Example only(DatasetReader.Table t) {
        RowFormatter f = new RowFormatter(RowFormatter.detect(t, null, null, null), null);
        return f.example(t.rows().get(0)).example();
    }

    @Test
    void shapes() {
        assertEquals("hello", only(jsonl("{\"text\": \"hello\"}")).text());
        assertEquals(conv("user", "Sum.\n\n1 2", "assistant", "3"),
                only(jsonl("{\"instruction\": \"Sum.\", \"input\": \"1 2\", \"output\": \"3\"}")).messages());
        assertEquals(conv("user", "Sum 1 2.", "assistant", "3"),
                only(jsonl("{\"instruction\": \"Sum 1 2.\", \"input\": \"\", \"output\": \"3\"}")).messages());
        assertEquals(conv("user", "Q", "assistant", "A"), only(jsonl("{\"prompt\": \"Q\", \"completion\": \"A\"}")).messages());
        assertEquals(conv("system", "S", "user", "Q", "assistant", "A"),
                only(jsonl("{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"Q\"}, {\"role\": \"assistant\", \"content\": \"A\"}]}")).messages());
        assertEquals(conv("system", "S", "user", "Q", "assistant", "A"),
                only(jsonl("{\"conversations\": [{\"from\": \"system\", \"value\": \"S\"}, {\"from\": \"human\", \"value\": \"Q\"}, {\"from\": \"gpt\", \"value\": \"A\"}]}")).messages());
    }

    @Test
    void tableRowsAndPredictionPrompts() {
        DatasetReader.Table t = DatasetReader.parse("t.csv", DatasetReader.Format.CSV, "name,age,label\nAnn,30,yes\nBob,,no\n");
        PromptFormat.Input in = RowFormatter.detect(t, "{name}[[ is {age}]].", "label", null);
        RowFormatter f = new RowFormatter(in, "Answer yes or no.");
        f.checkColumns(t, true);
        assertEquals(conv("system", "Answer yes or no.", "user", "Ann is 30.", "assistant", "yes"), f.example(t.rows().get(0)).example().messages());
        assertEquals(conv("system", "Answer yes or no.", "user", "Bob."), f.prompt(t.rows().get(1)));
        assertEquals("no", f.expected(t.rows().get(1)));
        DatasetReader.Table unlabeled = DatasetReader.parse("u.csv", DatasetReader.Format.CSV, "name,age\nCy,5\n");
        f.checkColumns(unlabeled, false);
        assertFalse(f.hasOutput(unlabeled));
        assertNull(f.expected(unlabeled.rows().get(0)));
        assertThrows(DatasetException.class, () -> f.checkColumns(unlabeled, true));
    }

    @Test
    void outputTemplate() {
        DatasetReader.Table t = DatasetReader.parse("t.csv", DatasetReader.Format.CSV, "q,a,why\nQ1,A1,because\n");
        RowFormatter f = new RowFormatter(RowFormatter.detect(t, "{q}", null, "{a}[[ ({why})]]"), null);
        assertEquals("A1 (because)", f.example(t.rows().get(0)).example().messages().get(1).content());
    }

    @Test
    void emptyExamplesAreSkippedWithAReason() {
        DatasetReader.Table t = jsonl("{\"instruction\": \"x\", \"output\": \"\"}\n{\"instruction\": \"y\", \"output\": \"ok\"}\n");
        RowFormatter f = new RowFormatter(RowFormatter.detect(t, null, null, null), null);
        assertEquals("an empty response", f.example(t.rows().get(0)).skipped());
        assertNotNull(f.example(t.rows().get(1)).example());
        DatasetReader.Table m = jsonl("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
        assertEquals("no assistant turn", new RowFormatter(PromptFormat.Input.of(PromptFormat.Kind.MESSAGES), null).example(m.rows().get(0)).skipped());
        DatasetReader.Table e = jsonl("{\"text\": \" \"}");
        assertEquals("empty \"text\"", new RowFormatter(PromptFormat.Input.of(PromptFormat.Kind.TEXT), null).example(e.rows().get(0)).skipped());
    }

    @Test
    void badShapes() {
        String m = assertThrows(DatasetException.class, () -> RowFormatter.detect(jsonl("{\"question\": \"q\", \"answer\": \"a\"}"), null, null, null)).getMessage();
        assertTrue(m.contains("d.jsonl:1: cannot tell the dataset's shape from the keys [question, answer]"), m);
        DatasetReader.Table csv = DatasetReader.parse("t.csv", DatasetReader.Format.CSV, "a,b\n1,2\n");
        assertTrue(assertThrows(DatasetException.class, () -> RowFormatter.detect(csv, null, null, null)).getMessage().contains("is a table; pass --prompt-template"));
        assertTrue(assertThrows(DatasetException.class, () -> RowFormatter.detect(csv, "{a}", null, null)).getMessage().contains("needs --output-column"));
        DatasetReader.Table mixed = jsonl("{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n{\"text\": \"t\"}\n");
        RowFormatter f = new RowFormatter(RowFormatter.detect(mixed, null, null, null), null);
        assertTrue(assertThrows(DatasetException.class, () -> f.example(mixed.rows().get(1))).getMessage().contains("d.jsonl:2: no \"messages\""));
        DatasetReader.Table tool = jsonl("{\"messages\": [{\"role\": \"tool\", \"content\": \"q\"}]}");
        assertTrue(assertThrows(DatasetException.class, () -> f.example(tool.rows().get(0))).getMessage().contains("role \"tool\""));
    }
}
