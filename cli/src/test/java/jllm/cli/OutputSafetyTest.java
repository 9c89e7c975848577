package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jllm.formats.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands that write files (convert, quantize, init, doctor --chart) never lose a user's file:
 * devices and directories refused, symlinks followed, inputs never overwritten, existing files only
 * with --overwrite (mode kept), missing parents an error, and no temporary file left by Ctrl-C.
 */
class OutputSafetyTest {
    @TempDir Path tmp;

    static void assertOneLineError(CliTest.Run r, String fragment) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("error: ") && r.err().strip().lines().count() == 1, r.err());
        assertTrue(r.err().contains(fragment), r.err());
    }

    private Path model() throws IOException {
        return ConvertTokenizerTest.checkpoint(Files.createDirectory(tmp.resolve("model")));
    }

    private CliTest.Run convert(Path in, Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("convert", in.toString(), "--to", out.toString(), "--type", "q8_0"));
        args.addAll(List.of(more));
        return CliTest.run(args.toArray(new String[0]));
    }

    private List<Path> leftovers() throws IOException {
        try (var s = Files.walk(tmp)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void aDeviceNodeOrADirectoryIsNeverReplaced() throws IOException {
        Path in = model();
        assertOneLineError(convert(in, Path.of("/dev/null"), "--overwrite"), "/dev/null: is a device, FIFO or socket");
        BasicFileAttributes a = Files.readAttributes(Path.of("/dev/null"), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertTrue(a.isOther(), "/dev/null is still a device node");
        assertOneLineError(convert(in, tmp, "--overwrite"), "is a directory");
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--out", "/dev/null", "--overwrite"), "device");
        assertOneLineError(CliTest.run("quantize", in.resolve("model.safetensors").toString(), "/dev/zero", "q4_0", "--overwrite"), "");
    }

    @Test
    void aSymlinkIsFollowedNotReplaced() throws IOException {
        Path in = model();
        Path real = Files.writeString(tmp.resolve("real.gguf"), "old");
        Path link = Files.createSymbolicLink(tmp.resolve("link.gguf"), real.getFileName());
        assertOneLineError(convert(in, link), "already exists; pass --overwrite");
        CliTest.Run r = convert(in, link, "--overwrite");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(link));
        try (GgufFile f = GgufFile.open(real)) { assertEquals("llama", f.getString("general.architecture", null)); }
    }

    @Test
    void theOutputIsNeverOneOfTheInputs() throws IOException {
        Path in = model();
        byte[] weights = Files.readAllBytes(in.resolve("model.safetensors")), config = Files.readAllBytes(in.resolve("config.json"));
        for (Path out : List.of(in.resolve("model.safetensors"), in.resolve("config.json"), in.resolve("./model.safetensors"),
                Files.createSymbolicLink(tmp.resolve("alias"), in.resolve("model.safetensors")),
                Files.createLink(tmp.resolve("hardlink"), in.resolve("config.json"))))
            assertOneLineError(convert(in, out, "--overwrite"), "is one of this command's inputs");
        assertArrayEquals(weights, Files.readAllBytes(in.resolve("model.safetensors")));
        assertArrayEquals(config, Files.readAllBytes(in.resolve("config.json")));
        // quantize onto its own input, by another name
        Path gguf = tmp.resolve("m.gguf");
        assertEquals(0, convert(in, gguf).code());
        Path other = Files.createLink(tmp.resolve("same.gguf"), gguf);
        assertOneLineError(CliTest.run("quantize", gguf.toString(), other.toString(), "q4_0", "--overwrite"), "inputs");
        // doctor's chart onto its reference (through a link named like a chart), refused before the comparison runs
        Path ref = CliTest.fixtures().resolve("hf/qwen3/reference.safetensors");
        Path chart = Files.createSymbolicLink(tmp.resolve("chart.svg"), ref.toAbsolutePath());
        assertOneLineError(CliTest.run("doctor", "compare", "--model", CliTest.fixtures().resolve("hf/qwen3").toString(),
                "--reference", ref.toString(), "--chart", chart.toString(), "--overwrite"), "inputs");
        assertEquals(List.of(), leftovers());
    }

    @Test
    void replacingNeedsOverwriteAndKeepsTheMode() throws IOException {
        Path in = model();
        Path out = tmp.resolve("m.gguf");
        CliTest.Run r = convert(in, out);
        assertEquals(0, r.code(), r.err());
        Path probe = Files.createFile(tmp.resolve("probe"));
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(out), "new files get the umask's mode");
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-r-----"));
        byte[] before = Files.readAllBytes(out);
        assertOneLineError(convert(in, out), "already exists; pass --overwrite");
        assertArrayEquals(before, Files.readAllBytes(out));
        assertEquals(0, convert(in, out, "--overwrite").code());
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        Path q = tmp.resolve("q.gguf");
        assertEquals(0, CliTest.run("quantize", out.toString(), q.toString(), "f16").code());
        assertOneLineError(CliTest.run("quantize", out.toString(), q.toString(), "f16"), "--overwrite");
        assertEquals(0, CliTest.run("quantize", out.toString(), q.toString(), "f16", "--overwrite").code());
    }

    @Test
    void aMissingParentDirectoryIsAnErrorNotMkdirP() throws IOException {
        Path in = model();
        assertOneLineError(convert(in, tmp.resolve("no/such/m.gguf")), "does not exist");
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--out", tmp.resolve("nope/m.gguf").toString()), "does not exist");
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--format", "hf", "--out", tmp.resolve("nope/dir").toString()), "does not exist");
        assertFalse(Files.exists(tmp.resolve("no")) || Files.exists(tmp.resolve("nope")));
    }

    @Test
    void initHfDirectoriesGoThroughTheSameRules() throws IOException {
        Path dir = tmp.resolve("hf");
        assertEquals(0, CliTest.run("init", "--preset", "tiny-llama", "--format", "hf", "--type", "f32", "--out", dir.toString()).code());
        assertTrue(Files.exists(dir.resolve("model.safetensors")) && Files.exists(dir.resolve("config.json")));
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--format", "hf", "--out", dir.toString()), "--overwrite");
        assertEquals(0, CliTest.run("init", "--preset", "tiny-llama", "--format", "hf", "--out", dir.toString(), "--overwrite").code());
        // the result loads and runs
        CliTest.Run g = CliTest.run("generate", "--model", dir.toString(), "--prompt-ids", "1", "--max-tokens", "2", "--print-ids");
        assertEquals(0, g.code(), g.err());
        // a tokenizer that does not fit the preset's vocabulary is refused, for both formats
        Path tok = CliTest.fixtures().resolve("tokenizers/llama2");
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--out", tmp.resolve("t.gguf").toString(), "--tokenizer", tok.toString()),
                "32000 tokens but the preset's vocabulary has 96");
        assertOneLineError(CliTest.run("init", "--preset", "tiny-llama", "--format", "hf", "--out", tmp.resolve("t").toString(),
                "--tokenizer", tok.toString()), "32000 tokens");
        assertEquals(List.of(), leftovers());
    }

    @Test
    void ctrlCDuringARealInitLeavesNoTemporaryAndTheOldFile() throws Exception {
        Path out = Files.writeString(tmp.resolve("m.gguf"), "the user's old file");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "init", "--preset", "llama-3.2-1b", "--type", "q8_0", "--out", out.toString(), "--overwrite")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        List<Path> temps;
        // wait until the temporary file holds tensor data (the 1.3 GB file takes far longer than this to finish)
        while (((temps = leftovers()).isEmpty() || Files.size(temps.get(0)) < (4 << 20)) && System.nanoTime() < deadline && p.isAlive())
            Thread.sleep(20);
        assertTrue(p.isAlive() && !temps.isEmpty(), "init is writing: " + Files.readString(tmp.resolve("log")));
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(130, p.exitValue(), Files.readString(tmp.resolve("log")));
        assertEquals(List.of(), leftovers());
        assertEquals("the user's old file", Files.readString(out));
    }
}
