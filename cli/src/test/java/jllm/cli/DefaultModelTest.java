package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The model that ships in the repository (models/default, trained by {@code jllm train} on Tiny
 * Shakespeare): {@code --model default} and a command without {@code --model} find it beside the
 * build, not through the working directory or ../shared, and a missing one is a one-line error.
 */
class DefaultModelTest {
    static Path repoDefault() {
        return Path.of(System.getProperty("jllm.root", "..")).resolve("models/default").toAbsolutePath().normalize();
    }

    @Test
    void resolvesToModelsDefaultInTheCheckoutOfTheBuild() throws Exception {
        if (System.getenv("JLLM_DEFAULT_MODEL") != null) return; // an explicit override wins by design
        Path want = repoDefault();
        assertEquals(want, Models.resolve(null).toAbsolutePath().normalize());
        assertEquals(want, Models.resolve(Path.of("default")).toAbsolutePath().normalize());
        assertEquals(Path.of("some/dir"), Models.resolve(Path.of("some/dir")));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"})
            assertTrue(Files.isRegularFile(want.resolve(f)), "models/default lacks " + f);
    }

    @Test
    void generatesShakespeareWithoutModelFlag() {
        CliTest.Run r = CliTest.run("generate", "--prompt", "ROMEO:", "--max-tokens", "48", "--temperature", "0.8", "--top-k", "40",
                "--seed", "1", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        String text = r.out().strip();
        assertTrue(text.startsWith("ROMEO:") || text.length() > 20, text);
        // A model of English verse writes mostly letters and spaces, and words that are real ones.
        long letters = text.chars().filter(c -> Character.isLetter(c) || c == ' ' || c == '\n').count();
        assertTrue(letters > 0.8 * text.length(), text);
        assertTrue(text.matches("(?s).*\\b(the|and|I|to|of|my|you|a|that|in|is|me|not|your|with|be)\\b.*"), text);
    }

    @Test
    void missingDefaultModelIsAOneLineError() {
        String old = System.getProperty("jllm.defaultModel");
        System.setProperty("jllm.defaultModel", "/nonexistent/jllm-default-model");
        try {
            for (String[] args : new String[][] {{"generate", "--prompt", "x"}, {"generate", "--model", "default", "--prompt", "x"},
                    {"predict", "--data", "x.csv", "--out", "/tmp/never-written.jsonl"}}) {
                CliTest.Run r = CliTest.run(args);
                assertEquals(2, r.code(), r.err());
                assertTrue(r.err().strip().startsWith("error: the default model is not at /nonexistent/jllm-default-model"), r.err());
                assertTrue(r.err().strip().lines().count() == 1, r.err());
            }
        } finally {
            if (old == null) System.clearProperty("jllm.defaultModel");
            else System.setProperty("jllm.defaultModel", old);
        }
    }
}
