package jllm.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;

/**
 * {@code metrics.jsonl}: one JSON object per line, appended as the run goes ({@code {"step":..,
 * "loss":..}} for training steps, {@code {"step":.., "val_loss":..}} for evaluations). A resumed run
 * first cuts the file back to the checkpoint's step (atomically), so the file always describes one
 * uninterrupted run.
 */
public final class MetricsLog implements AutoCloseable {
    public static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path path;
    private OutputStream out;

    public MetricsLog(Path outDir) { this.path = outDir.resolve(FILE); }

    public Path path() { return path; }

    /** Keeps the lines of steps up to {@code step} (all of them for a new run: none). */
    public void truncateAfter(long step) {
        List<String> keep = new ArrayList<>();
        for (JsonNode n : read(path)) if (n.path("step").asLong(Long.MAX_VALUE) <= step) keep.add(n.toString());
        StringBuilder b = new StringBuilder();
        for (String s : keep) b.append(s).append('\n');
        OutputFile.writeString(path, true, b.toString());
    }

    public synchronized void append(ObjectNode line) {
        try {
            if (out == null) out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            out.write((line.toString() + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new FormatException(path + ": cannot append: " + OutputFile.describe(e), e);
        }
    }

    public static ObjectNode line() { return JSON.createObjectNode(); }

    /** Every line of a metrics file (a torn last line, from a crash mid-write, is skipped). */
    public static List<JsonNode> read(Path path) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(path)) return out;
        try {
            for (String s : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                if (s.isBlank()) continue;
                try {
                    JsonNode n = JSON.readTree(s);
                    if (n != null && n.isObject()) out.add(n);
                } catch (IOException torn) {
                    // a line cut by a crash
                }
            }
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + OutputFile.describe(e), e);
        }
        return out;
    }

    @Override
    public synchronized void close() {
        try {
            if (out != null) out.close();
        } catch (IOException ignored) {
            // appended lines were flushed already
        }
        out = null;
    }
}
