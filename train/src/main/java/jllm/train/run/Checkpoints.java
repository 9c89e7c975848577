package jllm.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;

/**
 * A run's checkpoints, {@code OUT/checkpoints/step-000120/}, each complete or absent:
 * <ol>
 *   <li>everything is written into a hidden temporary directory beside them ({@code .tmp-step-...}),
 *       each file flushed to disk, {@value #POSITION} last;</li>
 *   <li>the directory is renamed to its name in one step and the parent directory synced;</li>
 *   <li>{@value #LATEST} (a one-line file naming it) is replaced atomically;</li>
 *   <li>older checkpoints beyond the last {@code keep} are deleted.</li>
 * </ol>
 * A crash ({@code kill -9}, power loss) or a full disk at any point leaves the previous checkpoint and
 * pointer as they were; a leftover temporary directory is removed by the next run. Reading prefers the
 * pointer and falls back to the newest complete directory if the pointer names a missing one.
 */
public final class Checkpoints {
    public static final String DIR = "checkpoints", LATEST = "latest", POSITION = "position.json";
    private static final String PREFIX = "step-", TMP = ".tmp-";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final int keep;

    public Checkpoints(Path outDir, int keep) {
        if (keep < 1) throw new IllegalArgumentException("--keep-checkpoints must be at least 1, not " + keep);
        this.root = outDir.resolve(DIR);
        this.keep = keep;
    }

    public Path root() { return root; }

    /** Where a run stopped: optimizer steps taken, and the data position of the next step. */
    public record Position(long step, int epoch, int index) { }

    public static String name(long step) { return String.format("%s%06d", PREFIX, step); }

    /**
     * Writes checkpoint {@code step}: {@code body} fills the (temporary) directory it is given; the
     * position is written after it. Returns the final directory.
     */
    public Path save(Position pos, Consumer<Path> body) {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new FormatException(root + ": cannot create: " + OutputFile.describe(e), e);
        }
        String name = name(pos.step());
        Path tmp = root.resolve(TMP + name + "-" + ProcessHandle.current().pid()), fin = root.resolve(name);
        try {
            deleteTree(tmp);
            Files.createDirectory(tmp);
            body.accept(tmp);
            String json = JSON.createObjectNode().put("step", pos.step()).put("epoch", pos.epoch()).put("index", pos.index()).toPrettyString() + "\n";
            OutputFile.writeString(tmp.resolve(POSITION), true, json);
            sync(tmp);
            if (Files.exists(fin)) deleteTree(fin);
            Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
            sync(root);
            OutputFile.writeString(root.resolve(LATEST), true, name + "\n");
        } catch (IOException e) {
            quietDelete(tmp);
            throw new FormatException(fin + ": cannot write checkpoint: " + OutputFile.describe(e), e);
        } catch (RuntimeException e) {
            quietDelete(tmp);
            throw e;
        }
        prune(name);
        return fin;
    }

    /** The newest complete checkpoint: the one {@value #LATEST} names, else the highest-numbered complete one. */
    public Optional<Path> latest() {
        try {
            Path p = root.resolve(LATEST);
            if (Files.isRegularFile(p)) {
                Path named = root.resolve(Files.readString(p).strip());
                if (named.getParent().equals(root) && complete(named)) return Optional.of(named);
            }
            List<Path> all = complete();
            return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
        } catch (IOException e) {
            throw new FormatException(root + ": cannot read checkpoints: " + OutputFile.describe(e), e);
        }
    }

    public static Position position(Path checkpoint) {
        Path p = checkpoint.resolve(POSITION);
        try {
            JsonNode n = JSON.readTree(p.toFile());
            if (n == null || !n.path("step").canConvertToLong()) throw new FormatException(p + ": not a checkpoint position");
            return new Position(n.get("step").asLong(), n.path("epoch").asInt(), n.path("index").asInt());
        } catch (IOException e) {
            throw new FormatException(p + ": cannot read: " + OutputFile.describe(e), e);
        }
    }

    /** Removes temporary directories a crashed run left behind. */
    public void cleanTemporary() {
        if (!Files.isDirectory(root)) return;
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.filter(x -> x.getFileName().toString().startsWith(TMP)).toList()) quietDelete(p);
        } catch (IOException e) {
            // nothing to clean, or not readable: the next save reports real problems
        }
    }

    private static boolean complete(Path dir) { return Files.isRegularFile(dir.resolve(POSITION)); }

    private List<Path> complete() throws IOException {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith(PREFIX) && complete(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    private void prune(String newest) {
        try {
            List<Path> all = new ArrayList<>(complete());
            all.removeIf(p -> p.getFileName().toString().compareTo(newest) > 0);
            for (int i = 0; i < all.size() - keep; i++) quietDelete(all.get(i));
        } catch (IOException e) {
            // an old checkpoint left in place is harmless
        }
    }

    private static void sync(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every filesystem syncs directories; the rename is still atomic
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }

    private static void quietDelete(Path p) {
        try {
            deleteTree(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
