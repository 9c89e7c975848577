package jllm.formats.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import jllm.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputFileTest {
    @TempDir Path dir;

    @Test
    void refusesDevicesAndDirectories() {
        var e = assertThrows(FormatException.class, () -> OutputFile.writeString(Path.of("/dev/null"), true, "x"));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertTrue(Files.isRegularFile(Path.of("/dev/null")) == false);
        e = assertThrows(FormatException.class, () -> OutputFile.writeString(dir, true, "x"));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void followsSymlinksInsteadOfReplacingThem() throws IOException {
        Path real = dir.resolve("real.txt"), link = dir.resolve("link.txt");
        Files.writeString(real, "old");
        Files.createSymbolicLink(link, real.getFileName());
        OutputFile.writeString(link, true, "new");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("new", Files.readString(real));
    }

    @Test
    void neverWritesOverAnInput() throws IOException {
        Path in = dir.resolve("model.safetensors");
        Files.writeString(in, "weights");
        var e = assertThrows(FormatException.class, () -> OutputFile.write(dir.resolve("./model.safetensors"), true, List.of(in),
                (OutputFile.StreamBody) out -> out.write(1)));
        assertTrue(e.getMessage().contains("input"), e.getMessage());
        assertEquals("weights", Files.readString(in));
    }

    @Test
    void refusesToReplaceWithoutOverwriteAndKeepsTheMode() throws IOException {
        Path f = dir.resolve("out.bin");
        Files.writeString(f, "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
        var e = assertThrows(FormatException.class, () -> OutputFile.writeString(f, false, "new"));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        OutputFile.writeString(f, true, "new");
        assertEquals("new", Files.readString(f));
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void newFilesGetTheUmaskMode() throws IOException {
        Path f = dir.resolve("fresh.txt");
        OutputFile.writeString(f, false, "x");
        // 0600 would mean the mode was forced, not taken from the umask (which never removes owner rw).
        var perms = Files.getPosixFilePermissions(f);
        Path probe = Files.createFile(dir.resolve("probe"));
        assertEquals(Files.getPosixFilePermissions(probe), perms);
    }

    @Test
    void missingParentIsAnError() {
        var e = assertThrows(FormatException.class, () -> OutputFile.writeString(dir.resolve("no/such/dir/x"), false, "x"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("no")));
    }

    @Test
    void aFailingWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path f = dir.resolve("keep.bin");
        Files.writeString(f, "old");
        assertThrows(FormatException.class, () -> OutputFile.write(f, true, List.of(), (OutputFile.StreamBody) out -> {
            out.write(new byte[1000]);
            throw new IOException("No space left on device");
        }));
        assertEquals("old", Files.readString(f));
        try (var s = Files.list(dir)) { assertEquals(List.of(f), s.toList()); }
        assertTrue(OutputFile.Temps.live().isEmpty());
    }

    @Test
    void outputDirectories() throws IOException {
        Path d = dir.resolve("run");
        assertEquals(d, OutputFile.directory(d, false, List.of()));
        Files.writeString(d.resolve("a"), "x");
        var e = assertThrows(FormatException.class, () -> OutputFile.directory(d, false, List.of()));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        OutputFile.directory(d, true, List.of());
        assertThrows(FormatException.class, () -> OutputFile.directory(dir.resolve("x/y"), false, List.of()));
    }

    @Test
    void aFileThatAppearsWhileWritingIsNotReplacedWithoutOverwrite() throws IOException {
        Path f = dir.resolve("race.bin");
        var e = assertThrows(FormatException.class, () -> OutputFile.write(f, false, List.of(), (OutputFile.StreamBody) out -> {
            out.write(1);
            Files.writeString(f, "someone else's");   // another process creates the target meanwhile
        }));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        assertEquals("someone else's", Files.readString(f));
        try (var s = Files.list(dir)) { assertEquals(List.of(f), s.toList()); }
    }

    @Test
    void modelWritersGoThroughOutputFile() throws IOException {
        Path g = dir.resolve("m.gguf"), st = dir.resolve("m.safetensors");
        new jllm.formats.gguf.GgufWriter().string("general.name", "x").write(g);
        new jllm.formats.safetensors.SafetensorsWriter().addF32("w", new float[] {1, 2}, 2).write(st);
        // a second write without overwrite is refused; with it, an input is still refused
        var e = assertThrows(FormatException.class, () -> new jllm.formats.gguf.GgufWriter().string("general.name", "y").write(g));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        e = assertThrows(FormatException.class, () -> new jllm.formats.safetensors.SafetensorsWriter().addF32("w", new float[] {3}, 1)
                .write(st, true, List.of(st)));
        assertTrue(e.getMessage().contains("inputs"), e.getMessage());
        e = assertThrows(FormatException.class, () -> new jllm.formats.gguf.GgufWriter().write(Path.of("/dev/null"), true, List.of()));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        assertEquals(1, jllm.formats.safetensors.SafetensorsFile.open(st).names().size());
    }

    @Test
    void symlinkToADirectoryOrADanglingLink() throws IOException {
        Path d = Files.createDirectory(dir.resolve("d"));
        Path toDir = Files.createSymbolicLink(dir.resolve("todir"), d);
        var e = assertThrows(FormatException.class, () -> OutputFile.writeString(toDir, true, "x"));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        // a dangling link is followed: the file it names is created, the link stays a link
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("target.txt"));
        OutputFile.writeString(dangling, false, "x");
        assertTrue(Files.isSymbolicLink(dangling));
        assertEquals("x", Files.readString(dir.resolve("target.txt")));
        // a link loop is an error, not a hang
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Files.createSymbolicLink(a, b);
        Files.createSymbolicLink(b, a);
        e = assertThrows(FormatException.class, () -> OutputFile.writeString(a, true, "x"));
        assertTrue(e.getMessage().contains("symbolic links"), e.getMessage());
    }
}
