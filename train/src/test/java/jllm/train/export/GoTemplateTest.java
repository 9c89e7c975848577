package jllm.train.export;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Go text/template subset, against behaviour documented for Go's engine. */
class GoTemplateTest {
    static Map<String, Object> data() {
        return Map.of("System", "sys", "Messages", List.of(Map.of("Role", "user", "Content", "hi"), Map.of("Role", "assistant", "Content", "yo")));
    }

    static String run(String t) { return GoTemplate.parse(t).execute(data()); }

    @Test
    void textFieldsAndTrimming() {
        assertEquals("a sys b", run("a {{ .System }} b"));
        assertEquals("asysb", run("a  \n {{- .System -}} \n b"));
        assertEquals("a--1", run("a{{ \"-\" }}{{ -1 }}"), "a minus sign not followed by a space is a number, not a trim marker");
        assertEquals("\"x\"\n\t\\é😀", run("{{ \"\\x22x\\u0022\\n\\t\\\\é\\U0001F600\" }}"));
    }

    @Test
    void rangeIfElseAndVariables() {
        String t = "{{- $last := \"none\" }}{{ range $i, $m := .Messages }}[{{ $i }}:{{ if eq .Role \"user\" }}U{{ else if eq .Role \"assistant\" }}A{{ else }}?{{ end }}"
                + "{{ $m.Content }}]{{ $last = .Role }}{{ end }}{{ $last }}";
        assertEquals("[0:Uhi][1:Ayo]assistant", run(t));
        assertEquals("user", run("{{ (index .Messages 0).Role }}"));
        assertEquals("2", run("{{ len .Messages }}"));
        assertEquals("yo", run("{{ range slice .Messages 1 }}{{ .Content }}{{ end }}"));
        assertEquals("true false true", run("{{ eq 1 2 1 }} {{ ne \"a\" \"a\" }} {{ not .Missing }}"));
        assertEquals("sys", run("{{ or .Missing .System }}"), "or returns the first true operand");
        assertEquals("", run("{{ and .System \"\" }}"));
        assertEquals("ok", run("{{ if or (not .Messages) (ne (index .Messages 0).Role \"system\") }}ok{{ end }}"));
    }

    @Test
    void variablesDeclaredInsideABlockEndWithIt() {
        assertThrows(IllegalStateException.class, () -> run("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}"));
        assertEquals("2", run("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}"));
    }

    @Test
    void unsupportedSyntaxIsAParseError() {
        assertThrows(GoTemplate.ParseException.class, () -> GoTemplate.parse("{{ printf \"%d\" 1 }}"));
        assertThrows(GoTemplate.ParseException.class, () -> GoTemplate.parse("{{ if .X }}open"));
        assertThrows(GoTemplate.ParseException.class, () -> GoTemplate.parse("{{ .X "));
    }
}
