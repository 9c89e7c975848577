package jllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code run.json} in a training run's output directory: every option the run was started with (as
 * picocli parsed it, so nothing is forgotten when an option is added), the data file's size and
 * SHA-256, and what the run itself decided (the prompt format with its date). {@code --resume} reads
 * it back into the command, so a resumed run has exactly the settings of the one it continues.
 */
final class RunRecord {
    static final String FILE = "run.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Options that are not settings of the run. */
    private static final Set<String> NOT_SETTINGS = Set.of("--out", "--resume", "--overwrite", "--help", "--version", "--threads");

    private RunRecord() { }

    static ObjectNode options(CommandSpec spec) {
        ObjectNode o = JSON.createObjectNode();
        for (OptionSpec opt : spec.options()) {
            String name = opt.longestName();
            if (NOT_SETTINGS.contains(name)) continue;
            Object v = opt.getValue();
            if (v == null) o.putNull(name);
            else if (v instanceof Boolean b) o.put(name, b);
            else if (v instanceof Integer i) o.put(name, i);
            else if (v instanceof Long l) o.put(name, l);
            else if (v instanceof Double d) o.put(name, d);
            else o.put(name, v instanceof Path p ? p.toAbsolutePath().normalize().toString() : v.toString());
        }
        return o;
    }

    /** Refuses settings given together with --resume (they would make the resumed run differ from the original). */
    static void refuseSettingsWithResume(CommandSpec spec) {
        List<String> given = new ArrayList<>();
        for (OptionSpec opt : spec.options())
            if (!NOT_SETTINGS.contains(opt.longestName()) && spec.commandLine().getParseResult().hasMatchedOption(opt)) given.add(opt.longestName());
        if (!given.isEmpty())
            throw new IllegalArgumentException("--resume continues the run with the settings in its " + FILE + "; leave out " + String.join(", ", given));
    }

    /** Puts the recorded options back into the command's fields. */
    static void restore(CommandSpec spec, JsonNode options, Path file) {
        for (OptionSpec opt : spec.options()) {
            String name = opt.longestName();
            if (NOT_SETTINGS.contains(name) || !options.has(name)) continue;
            JsonNode v = options.get(name);
            Class<?> t = opt.type();
            Object value;
            if (v.isNull()) value = null;
            else if (t == boolean.class || t == Boolean.class) value = v.asBoolean();
            else if (t == int.class || t == Integer.class) value = v.asInt();
            else if (t == long.class || t == Long.class) value = v.asLong();
            else if (t == double.class || t == Double.class) value = v.asDouble();
            else if (t == Path.class) value = Path.of(v.asText());
            else if (t == String.class) value = v.asText();
            else throw new FormatException(file + ": cannot restore option " + name + " of type " + t.getSimpleName());
            if (value == null && t.isPrimitive()) continue;
            opt.setValue(value);
        }
    }

    /**
     * For {@code --resume}: refuses settings given beside it, then reads the run's record and puts its
     * options back on the command; returns the record (null without {@code --resume}).
     */
    static ObjectNode resume(CommandSpec spec, boolean resume, Path outDir) {
        if (!resume) return null;
        refuseSettingsWithResume(spec);
        ObjectNode recorded = read(outDir);
        restore(spec, recorded.get("options"), outDir.resolve(FILE));
        return recorded;
    }

    static void write(Path outDir, ObjectNode record) {
        OutputFile.writeString(outDir.resolve(FILE), true, record.toPrettyString() + "\n");
    }

    static ObjectNode read(Path outDir) {
        Path f = outDir.resolve(FILE);
        if (!Files.isRegularFile(f)) throw new FormatException(outDir + ": no " + FILE + " (not a jllm training run, or it never started); nothing to resume");
        try {
            JsonNode n = JSON.readTree(f.toFile());
            if (!(n instanceof ObjectNode o) || !o.has("options")) throw new FormatException(f + ": not a jllm run record");
            return o;
        } catch (IOException e) {
            throw new FormatException(f + ": cannot read: " + OutputFile.describe(e), e);
        }
    }

    /** Size and SHA-256 of a data file, so a resumed run can tell that its data changed. */
    static ObjectNode fingerprint(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            long n = 0;
            for (int r; (r = in.read(buf)) > 0; n += r) md.update(buf, 0, r);
            return JSON.createObjectNode().put("bytes", n).put("sha256", HexFormat.of().formatHex(md.digest()));
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + OutputFile.describe(e), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void checkFingerprint(JsonNode recorded, Path file) {
        if (recorded == null || recorded.isMissingNode()) return;
        if (!Files.isRegularFile(file)) throw new FormatException(file + ": the run's data file is gone; it is needed to resume");
        ObjectNode now = fingerprint(file);
        if (now.get("bytes").asLong() != recorded.path("bytes").asLong(-1) || !now.get("sha256").asText().equals(recorded.path("sha256").asText()))
            throw new FormatException(file + ": the data file changed since the run started (size or SHA-256 differ); resuming would train on other data");
    }

    static ObjectNode object() { return JSON.createObjectNode(); }
}
