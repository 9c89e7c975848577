package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jllm.formats.FormatException;
import jllm.train.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading each file format, and each kind of bad input with the message a user needs. */
class DatasetReaderTest {
    @TempDir Path dir;

    Path file(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    static String message(Runnable r) {
        return assertThrows(FormatException.class, r::run).getMessage();
    }

    @Test
    void titanicCsv() {
        DatasetReader.Table t = DatasetReader.read(Fixtures.dataset("titanic-train.csv"));
        assertEquals(700, t.rows().size());
        assertEquals(List.of("PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"), t.columns());
        Row first = t.rows().get(0);
        assertEquals(2, first.line());
        assertEquals("Braund, Mr. Owen Harris", first.text("Name"));
        assertEquals("", first.text("Cabin"));
    }

    @Test
    void csvQuotingFollowsRfc4180() throws IOException {
        Path p = file("q.csv", "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n1,,3\n\n  \n4,5,\n");
        DatasetReader.Table t = DatasetReader.read(p);
        assertEquals(3, t.rows().size());
        assertEquals("x, y", t.rows().get(0).text("a"));
        assertEquals("say \"hi\"", t.rows().get(0).text("b"));
        assertEquals("two\nlines", t.rows().get(0).text("c"));
        assertEquals(4, t.rows().get(1).line(), "the row after a two-line field starts on line 4");
        assertEquals("", t.rows().get(1).text("b"));
        assertEquals("", t.rows().get(2).text("c"), "a trailing separator is an empty last field");
    }

    @Test
    void tsv() throws IOException {
        DatasetReader.Table t = DatasetReader.read(file("d.tsv", "q\ta\n\"tab\there, \"\"too\"\"\"\tyes\n"));
        assertEquals("tab\there, \"too\"", t.rows().get(0).text("q"));
        assertEquals("yes", t.rows().get(0).text("a"));
    }

    @Test
    void jsonLinesAndJsonArray() throws IOException {
        DatasetReader.Table l = DatasetReader.read(file("d.jsonl", "{\"text\": \"a\"}\n\n{\"text\": \"b\", \"x\": 1}\n"));
        assertEquals(2, l.rows().size());
        assertEquals(3, l.rows().get(1).line());
        assertEquals(List.of("text", "x"), l.columns());
        assertEquals("1", l.rows().get(1).text("x"));
        DatasetReader.Table a = DatasetReader.read(file("d.json", "[\n {\"text\": \"a\"},\n {\"text\": \"b\"}\n]\n"));
        assertEquals(2, a.rows().size());
        assertEquals(3, a.rows().get(1).line());
        DatasetReader.Table j = DatasetReader.read(file("e.json", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n"));
        assertEquals(2, j.rows().size(), ".json holding JSON Lines");
    }

    // ---- bad input -----------------------------------------------------------------------------

    @Test
    void emptyFile() throws IOException {
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("e.csv", "")))).contains("e.csv: is empty"));
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("e.jsonl", "\n  \n")))).contains("is empty"));
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("h.csv", "a,b\n")))).contains("only a header"));
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("a.json", "[]")))).contains("no examples"));
    }

    @Test
    void csvRaggedRowNamesItsLine() throws IOException {
        Path p = file("r.csv", "a,b,c\n1,2,3\n\"multi\nline\",2,3\n4,5\n");
        String m = message(() -> DatasetReader.read(p));
        assertTrue(m.contains("r.csv:5: row has 2 fields but the header has 3"), m);
        Path q = file("r2.csv", "a,b\n1,2,3\n");
        assertTrue(message(() -> DatasetReader.read(q)).contains("r2.csv:2: row has 3 fields"));
    }

    @Test
    void csvUnterminatedQuote() throws IOException {
        Path p = file("u.csv", "a,b\n1,\"open\n2,3\n");
        String m = message(() -> DatasetReader.read(p));
        assertTrue(m.startsWith(p + ":") && m.contains("malformed CSV"), m);
    }

    @Test
    void csvHeaderProblems() throws IOException {
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("d.csv", "a,b,a\n1,2,3\n")))).contains("names column \"a\" twice"));
        assertTrue(message(() -> DatasetReader.read(unchecked(() -> file("n.csv", "a,,c\n1,2,3\n")))).contains("column 2 has no name"));
    }

    @Test
    void nonUtf8NamesFileAndLine() throws IOException {
        Path p = dir.resolve("latin1.csv");
        Files.write(p, "name,city\nAnn,Paris\nJos\u00e9,M\u00e1laga\n".getBytes(StandardCharsets.ISO_8859_1));
        String m = message(() -> DatasetReader.read(p));
        assertTrue(m.contains("latin1.csv:3: not valid UTF-8"), m);
    }

    @Test
    void jsonLineThatIsNotAnObject() throws IOException {
        Path p = file("n.jsonl", "{\"text\": \"a\"}\n[1, 2]\n");
        assertTrue(message(() -> DatasetReader.read(p)).contains("n.jsonl:2: expected a JSON object on each line, got an array"));
        Path s = file("s.jsonl", "\"just a string\"\n");
        assertTrue(message(() -> DatasetReader.read(s)).contains("s.jsonl:1: expected a JSON object on each line, got a string"));
    }

    @Test
    void malformedJsonLine() throws IOException {
        Path p = file("m.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"\n{\"text\": \"c\"}\n");
        String m = message(() -> DatasetReader.read(p));
        assertTrue(m.contains("m.jsonl:2: not valid JSON"), m);
        Path t = file("t.jsonl", "{\"text\": \"a\"} trailing\n");
        assertTrue(message(() -> DatasetReader.read(t)).contains("t.jsonl:1: not valid JSON"));
        Path a = file("a.json", "[{\"text\": \"a\"},\n 5]");
        assertTrue(message(() -> DatasetReader.read(a)).contains("a.json:2: expected an array of JSON objects, got a number"));
    }

    @Test
    void unknownExtension() throws IOException {
        Path p = file("d.parquet", "x");
        assertTrue(message(() -> DatasetReader.read(p)).contains("unknown dataset format"));
    }

    interface IoSupplier<T> { T get() throws IOException; }

    static <T> T unchecked(IoSupplier<T> s) {
        try {
            return s.get();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
