package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A command that only groups others is a usage error without one: usage on stderr, exit 2. */
class CommandGroupTest {
    @ParameterizedTest
    @ValueSource(strings = {"doctor", "template", "tokenizer"})
    void groupAloneIsAUsageError(String group) {
        var cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        assertEquals(Main.BAD_INPUT, cl.execute(group));
        assertTrue(err.toString().contains("Usage: jllm " + group), err.toString());
        assertEquals("", out.toString());
        assertTrue(err.toString().strip().lines().reduce((a, b) -> b).orElse("").startsWith("error: `jllm " + group + "` needs a subcommand: "), err.toString());
    }
}
