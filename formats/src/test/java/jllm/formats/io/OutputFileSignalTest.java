package jllm.formats.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Ctrl-C (SIGINT), SIGTERM and a full disk during a real write in another JVM: the temporary file is
 * gone and the file being replaced is untouched.
 */
class OutputFileSignalTest {
    @TempDir Path dir;

    static Process java(Path dir, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), SlowWriter.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    }

    /** Starts a writer, waits until its temporary file holds data, sends {@code signal}; returns the exit status. */
    private int interrupt(String signal, Path target) throws Exception {
        Process p = java(dir, target.toString());
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
        assertEquals("writing", r.readLine());
        assertEquals(1, temporaries().size(), "a temporary file is being written");
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the writer exits");
        return p.exitValue();
    }

    private List<Path> temporaries() throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /** Ctrl-C is SIGINT (exit 130), a service manager's stop SIGTERM (143): both run the JVM's shutdown hooks. */
    @ParameterizedTest
    @CsvSource({"INT, 130", "TERM, 143"})
    void aSignalMidWriteLeavesNoTemporaryAndTheOldFile(String signal, int status) throws Exception {
        Path target = Files.writeString(dir.resolve("model.gguf"), "old weights");
        assertEquals(status, interrupt(signal, target));
        assertEquals(List.of(), temporaries());
        assertEquals("old weights", Files.readString(target));
    }

    @Test
    void aFullDiskFailsTheWriteAndKeepsTheOldFile() throws Exception {
        // A real short write: the process's file size limit (ulimit -f, in KiB) makes write() fail with EFBIG,
        // as a full disk makes it fail with ENOSPC; both reach OutputFile as an IOException mid-write.
        Path target = Files.writeString(dir.resolve("model.gguf"), "old weights");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder("bash", "-c", "ulimit -f 2048; exec \"$0\" -cp \"$1\" " + SlowWriter.class.getName() + " \"$2\"",
                java, System.getProperty("java.class.path"), target.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(p.exitValue() != 0, out);
        assertTrue(out.contains("file too large"), out);
        assertEquals(List.of(), temporaries());
        assertEquals("old weights", Files.readString(target));
    }
}
