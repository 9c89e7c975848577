package jllm.formats.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import jllm.formats.FormatException;

/**
 * The one way jllm writes a file a user asked for (models, adapters, checkpoints, charts, reports).
 *
 * <p>What it promises, and why each matters:
 * <ul>
 *   <li>The target is a regular file or does not exist yet. Devices, FIFOs, sockets and directories are
 *       refused: writing "to" {@code /dev/null} as root must not replace the system's device node.</li>
 *   <li>A symlink is followed to the file it names (as {@code cp} does), so the link itself survives.</li>
 *   <li>The target is never one of the command's own inputs (compared by real path): a convert that
 *       overwrote its source weights would destroy them before anyone noticed.</li>
 *   <li>An existing target is replaced only when the caller says so ({@code --overwrite}); its file mode
 *       is kept. New files get the mode the umask gives, like any other Unix tool.</li>
 *   <li>Bytes go to a temporary file beside the target, are flushed to disk, then renamed over it in one
 *       step: readers see the old file or the new one, never half of one. A failure (full disk, error,
 *       Ctrl-C, SIGTERM) removes the temporary file and leaves the old target as it was.</li>
 *   <li>A missing parent directory is an error, not a silent {@code mkdir -p} (a typo in a path should
 *       not create a tree somewhere unexpected).</li>
 * </ul>
 */
public final class OutputFile {
    private OutputFile() { }

    /** Writes the file's content; the channel is positioned at 0 of an empty file. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel out) throws IOException;
    }

    /** Writes the content as a stream (buffer it yourself if you write small pieces). */
    @FunctionalInterface
    public interface StreamBody {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Checks {@code target} before any expensive work, so a long conversion fails at once instead of at
     * the end. Returns the path that will really be written (symlinks followed).
     *
     * @param inputs files (or directories) the command reads; the target may not be any of them, nor a
     *               file inside an input directory that already exists and is read by the command. Pass the
     *               files actually read where the command knows them.
     */
    public static Path check(Path target, boolean overwrite, Collection<Path> inputs) {
        Path real = resolveLinks(target);
        Path parent = real.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent))
            throw new FormatException(target + ": directory " + (parent == null ? "(none)" : parent) + " does not exist");
        if (Files.exists(real)) {
            if (Files.isDirectory(real)) throw new FormatException(target + ": is a directory, not a file");
            if (!Files.isRegularFile(real))
                throw new FormatException(target + ": is a device, FIFO or socket, not a regular file; refusing to replace it");
            for (Path in : inputs) {
                if (in == null) continue;
                if (sameFile(real, in))
                    throw new FormatException(target + ": is one of this command's inputs" + (in.equals(target) ? "" : " (" + in + ")")
                            + "; write the output elsewhere");
            }
            if (!overwrite) throw new FormatException(target + ": already exists; pass --overwrite to replace it");
        }
        return real;
    }

    public static Path check(Path target, boolean overwrite, Path... inputs) { return check(target, overwrite, List.of(inputs)); }

    /** Atomically writes {@code target} (see the class doc); returns the path really written. */
    public static Path write(Path target, boolean overwrite, Collection<Path> inputs, Body body) {
        Path real = check(target, overwrite, inputs);
        Path tmp = null;
        try {
            tmp = Temps.create(real);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            keepMode(real, tmp);
            Temps.commit(tmp, real, overwrite, target);
            tmp = null;
            syncDirectory(real.toAbsolutePath().getParent());
            return real;
        } catch (IOException e) {
            throw new FormatException(target + ": cannot write: " + describe(e), e);
        } finally {
            if (tmp != null) Temps.discard(tmp);
        }
    }

    public static Path write(Path target, boolean overwrite, Collection<Path> inputs, StreamBody body) {
        return write(target, overwrite, inputs, (Body) ch -> {
            OutputStream os = Channels.newOutputStream(ch);
            body.write(os);
            os.flush();
        });
    }

    public static Path writeString(Path target, boolean overwrite, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return write(target, overwrite, List.of(), (StreamBody) out -> out.write(b));
    }

    public static Path writeBytes(Path target, boolean overwrite, byte[] bytes) {
        return write(target, overwrite, List.of(), (StreamBody) out -> out.write(bytes));
    }

    /**
     * Prepares an output directory (adapters, merged models, training runs): an existing non-empty
     * directory is refused unless {@code overwrite}; the parent must exist; never one of the inputs.
     */
    public static Path directory(Path dir, boolean overwrite, Collection<Path> inputs) {
        Path real = resolveLinks(dir);
        Path parent = real.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent))
            throw new FormatException(dir + ": parent directory " + (parent == null ? "(none)" : parent) + " does not exist");
        for (Path in : inputs) if (in != null && sameFile(real, in))
            throw new FormatException(dir + ": is also an input of this command; write the output elsewhere");
        try {
            if (Files.exists(real)) {
                if (!Files.isDirectory(real)) throw new FormatException(dir + ": exists and is not a directory");
                boolean empty;
                try (var s = Files.list(real)) { empty = s.findAny().isEmpty(); }
                if (!empty && !overwrite) throw new FormatException(dir + ": already exists and is not empty; pass --overwrite to write into it");
                if (!Files.isWritable(real)) throw new FormatException(dir + ": is not writable");
            } else {
                Files.createDirectory(real);
            }
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot create directory: " + describe(e), e);
        }
        return real;
    }

    /** Follows symlinks (also dangling ones, whose target will be created) to the path really written. */
    static Path resolveLinks(Path p) {
        Path cur = p.toAbsolutePath().normalize();
        for (int hops = 0; Files.isSymbolicLink(cur); hops++) {
            if (hops > 40) throw new FormatException(p + ": too many levels of symbolic links");
            try {
                Path link = Files.readSymbolicLink(cur);
                cur = cur.getParent().resolve(link).normalize();
            } catch (IOException e) {
                throw new FormatException(p + ": cannot read symbolic link: " + describe(e), e);
            }
        }
        Path parent = cur.getParent();
        if (parent != null && Files.isDirectory(parent)) {
            try { cur = parent.toRealPath().resolve(cur.getFileName()); } catch (IOException ignored) { }
        }
        return cur;
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            if (!Files.exists(b)) return false;
            return Files.isSameFile(a, b) || a.toRealPath().equals(b.toRealPath());
        } catch (IOException e) {
            return false;
        }
    }

    private static void keepMode(Path real, Path tmp) throws IOException {
        if (!Files.exists(real, LinkOption.NOFOLLOW_LINKS)) return;
        PosixFileAttributeView v = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        if (v == null) return;
        PosixFileAttributes old = Files.readAttributes(real, PosixFileAttributes.class);
        v.setPermissions(old.permissions());
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Not every filesystem lets a directory be opened and synced; the rename itself is still atomic.
        }
    }

    /** A short reason a person can act on (Java's messages often are only the path). */
    public static String describe(IOException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof NoSuchFileException) return "no such file or directory: " + m;
        if (e instanceof FileAlreadyExistsException) return "already exists: " + m;
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied: " + m;
        if (m.contains("No space left")) return "no space left on device";
        if (m.contains("File too large")) return "file too large (the file system's or the process's file size limit, ulimit -f)";
        if (m.contains("Disk quota exceeded")) return "disk quota exceeded";
        return m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    /**
     * Temporary files in flight. A shutdown hook (run by the JVM on Ctrl-C and SIGTERM) removes those
     * not yet renamed, so an interrupted write leaves neither a stray {@code .tmp} nor a half target.
     */
    static final class Temps {
        private static final Set<Path> LIVE = new LinkedHashSet<>();
        private static boolean shuttingDown;

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(Temps::removeAll, "jllm-temp-cleanup"));
        }

        private Temps() { }

        static Path create(Path real) throws IOException {
            Path dir = real.toAbsolutePath().getParent();
            for (int attempt = 0; ; attempt++) {
                Path tmp = dir.resolve("." + real.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + ".tmp");
                synchronized (Temps.class) {
                    if (shuttingDown) throw new IOException("shutting down");
                    try {
                        // No file attributes: the mode comes from the umask (Files.createTempFile would force 0600).
                        Files.createFile(tmp);
                    } catch (FileAlreadyExistsException e) {
                        if (attempt < 10) continue;
                        throw e;
                    }
                    LIVE.add(tmp);
                    return tmp;
                }
            }
        }

        /**
         * Puts the finished temporary file in place. Without {@code overwrite} a file that appeared at the
         * target while we were writing (another process, a second jllm) is not replaced: the new file is
         * hard-linked in, which fails if the name exists, instead of renamed over it.
         */
        static void commit(Path tmp, Path real, boolean overwrite, Path target) throws IOException {
            synchronized (Temps.class) {
                if (shuttingDown) throw new IOException("interrupted");
                if (!overwrite) {
                    boolean linked;
                    try {
                        Files.createLink(real, tmp);
                        linked = true;
                    } catch (FileAlreadyExistsException e) {
                        throw new FormatException(target + ": was created by someone else while jllm was writing it; "
                                + "pass --overwrite to replace it");
                    } catch (UnsupportedOperationException | IOException e) {
                        // no hard links on this filesystem: check, then rename as below
                        if (Files.exists(real, LinkOption.NOFOLLOW_LINKS))
                            throw new FormatException(target + ": already exists; pass --overwrite to replace it");
                        linked = false;
                    }
                    if (linked) {
                        Files.deleteIfExists(tmp);
                        LIVE.remove(tmp);
                        return;
                    }
                }
                Files.move(tmp, real, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                LIVE.remove(tmp);
            }
        }

        static void discard(Path tmp) {
            synchronized (Temps.class) {
                try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
                LIVE.remove(tmp);
            }
        }

        private static void removeAll() {
            synchronized (Temps.class) {
                shuttingDown = true;
                for (Path p : LIVE) try { Files.deleteIfExists(p); } catch (IOException ignored) { }
                LIVE.clear();
            }
        }

        /** For tests: the temporary files currently open. */
        static synchronized Set<Path> live() { return Set.copyOf(LIVE); }
    }
}
