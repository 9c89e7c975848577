package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import jllm.train.Fixtures;
import org.junit.jupiter.api.Test;

class PromptTemplateTest {
    /** The template of issue 10's Titanic example. */
    static final String TITANIC = "Passenger: class {Pclass}, {Sex}[[, age {Age}]], {SibSp} siblings or spouses and {Parch} parents or children aboard"
            + "[[, fare {Fare}]][[, embarked at {Embarked}]]. Survived:";

    static Row row(Map<String, String> cells) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        cells.forEach(o::put);
        return new Row("t.csv", 2, o);
    }

    @Test
    void titanicRows() {
        DatasetReader.Table t = DatasetReader.read(Fixtures.dataset("titanic-train.csv"));
        PromptTemplate p = PromptTemplate.parse("--prompt-template", TITANIC);
        p.checkColumns("--prompt-template", t.file(), t.columns());
        Map<String, String> want = Map.of(
                "1", "Passenger: class 3, male, age 22, 1 siblings or spouses and 0 parents or children aboard, fare 7.25, embarked at S. Survived:",
                "6", "Passenger: class 3, male, 0 siblings or spouses and 0 parents or children aboard, fare 8.4583, embarked at Q. Survived:",
                "62", "Passenger: class 1, female, age 38, 0 siblings or spouses and 0 parents or children aboard, fare 80. Survived:");
        int seen = 0;
        for (Row r : t.rows()) {
            String id = r.text("PassengerId");
            if (want.containsKey(id)) {
                PromptTemplate.Result res = p.render(r);
                assertEquals(want.get(id), res.text(), "PassengerId " + id);
                assertEquals(List.of(), res.emptyRequired());
                seen++;
            }
        }
        assertEquals(3, seen);
    }

    @Test
    void optionalPartWithSeveralColumnsIsDroppedWhenAnyIsEmpty() {
        PromptTemplate p = PromptTemplate.parse("t", "{Name}[[ ({City}, {Country})]]!");
        assertEquals("Ann (Paris, France)!", p.render(row(Map.of("Name", "Ann", "City", "Paris", "Country", "France"))).text());
        assertEquals("Ann!", p.render(row(Map.of("Name", "Ann", "City", "", "Country", "France"))).text());
        assertEquals("Ann!", p.render(row(Map.of("Name", "Ann", "City", "Paris", "Country", "  "))).text());
        PromptTemplate.Result r = p.render(row(Map.of("Name", "", "City", "Paris", "Country", "France")));
        assertEquals(" (Paris, France)!", r.text());
        assertEquals(List.of("Name"), r.emptyRequired());
    }

    @Test
    void escapes() {
        PromptTemplate p = PromptTemplate.parse("t", "\\{x\\} \\[\\[{A}\\]\\]\\nnext\\t\\\\");
        assertEquals("{x} [[1]]\nnext\t\\", p.render(row(Map.of("A", "1"))).text());
    }

    @Test
    void syntaxErrors() {
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("--prompt-template", "a [[no column]] {B}")).getMessage()
                .contains("must contain at least one {column}"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "[[{A} [[{B}]] ]]")).getMessage().contains("nested"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "{A} [[{B}")).getMessage().contains("not closed by ']]'"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "{A")).getMessage().contains("not closed by '}'"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "{A} }")).getMessage().contains("'}' without '{'"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "{A} {}")).getMessage().contains("empty placeholder"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "{A} \\q")).getMessage().contains("unknown escape"));
        assertTrue(assertThrows(DatasetException.class, () -> PromptTemplate.parse("t", "no columns")).getMessage().contains("names no {column}"));
    }

    @Test
    void missingColumnIsNamedWithTheAvailableOnes() {
        DatasetReader.Table t = DatasetReader.read(Fixtures.dataset("titanic-train.csv"));
        PromptTemplate p = PromptTemplate.parse("--prompt-template", "class {pclass}, {Sex}, {Deck}");
        String m = assertThrows(DatasetException.class, () -> p.checkColumns("--prompt-template", t.file(), t.columns())).getMessage();
        assertTrue(m.contains("{pclass} (did you mean {Pclass}?), {Deck}"), m);
        assertTrue(m.contains("available columns: PassengerId, Survived, Pclass, Name, Sex, Age, SibSp, Parch, Ticket, Fare, Cabin, Embarked"), m);
    }
}
