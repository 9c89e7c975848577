package jllm.train.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.tensor.DType;
import jllm.train.Param;

/**
 * An optimizer's state in a checkpoint directory: {@value #TENSORS} holds every state array
 * ({@code PARAM.exp_avg}, {@code PARAM.exp_avg_sq}, {@code PARAM.momentum_buffer}) as F32 in its
 * parameter's shape, and {@value #JSON} the step count, the optimizer's kind and hyperparameters, the
 * schedule and the parameter list, so a resumed run continues the same trajectory and a mismatched
 * checkpoint is refused by name.
 */
public final class OptimizerState {
    public static final String TENSORS = "optimizer.safetensors", JSON = "optimizer.json";
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ObjectMapper OM = new ObjectMapper();

    private OptimizerState() { }

    /** What a checkpoint says besides the arrays: the step reached and the settings it was trained with. */
    public record Saved(String kind, long step, JsonNode hyperparameters, JsonNode schedule) { }

    /** Writes the state into the existing directory {@code dir}, replacing an earlier save there. */
    public static void save(Path dir, Optimizer opt, LrSchedule schedule) {
        if (!Files.isDirectory(dir)) throw new FormatException(dir + ": checkpoint directory does not exist");
        SafetensorsWriter w = new SafetensorsWriter().metadata("jllm.optimizer", opt.kind());
        Map<String, long[]> shapes = new HashMap<>();
        for (Param p : opt.params) for (String s : opt.stateSuffixes()) shapes.put(p.name + "." + s, p.shape());
        for (var e : opt.stateTensors().entrySet()) {
            // the arrays themselves, not a byte copy: full fine-tuning state is twice the model's size
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) w.add(e.getKey(), DType.F32, shapes.get(e.getKey()), MemorySegment.ofArray(e.getValue()));
            else w.addF32(e.getKey(), e.getValue(), shapes.get(e.getKey()));
        }
        OutputFile.write(dir.resolve(TENSORS), true, java.util.List.of(), (OutputFile.StreamBody) w::write);
        ObjectNode json = OM.createObjectNode();
        json.put("optimizer", opt.kind());
        json.put("step", opt.steps);
        json.set("hyperparameters", OM.valueToTree(opt.hyperparameters()));
        if (schedule != null) {
            ObjectNode s = json.putObject("schedule");
            s.put("kind", schedule.kind().id());
            s.put("lr", schedule.baseLr());
            s.put("warmup_steps", schedule.warmupSteps());
            s.put("total_steps", schedule.totalSteps());
            s.put("cycles", schedule.cycles());
        }
        ArrayNode ps = json.putArray("params");
        for (Param p : opt.params) {
            ObjectNode o = ps.addObject();
            o.put("name", p.name);
            ArrayNode sh = o.putArray("shape");
            for (long d : p.shape()) sh.add(d);
        }
        json.put("tensors", TENSORS);
        OutputFile.writeString(dir.resolve(JSON), true, json.toPrettyString() + "\n");
    }

    /**
     * Restores {@code opt}'s arrays and step count from {@code dir}. The optimizer must be of the same
     * kind and over the same parameters (names and shapes); its own hyperparameters stay (a resumed run
     * may change them), the saved ones are returned for the caller to compare or report.
     */
    public static Saved load(Path dir, Optimizer opt) {
        Path jp = dir.resolve(JSON);
        JsonNode json;
        try {
            json = OM.readTree(Files.readString(jp));
        } catch (IOException e) {
            throw new FormatException(jp + ": cannot read optimizer state: " + OutputFile.describe(e), e);
        }
        if (json == null || !json.isObject() || !json.path("step").canConvertToLong() || !json.path("params").isArray())
            throw new FormatException(jp + ": not a jllm optimizer state (needs \"optimizer\", \"step\" and \"params\")");
        String kind = json.path("optimizer").asText();
        if (!kind.equals(opt.kind()))
            throw new FormatException(jp + ": state of a " + kind + " optimizer, but this run uses " + opt.kind());
        long step = json.get("step").asLong();
        if (step < 0) throw new FormatException(jp + ": negative step " + step);
        Map<String, long[]> saved = new HashMap<>();
        for (JsonNode p : json.get("params")) {
            long[] sh = new long[p.path("shape").size()];
            for (int i = 0; i < sh.length; i++) sh[i] = p.get("shape").get(i).asLong();
            saved.put(p.path("name").asText(), sh);
        }
        for (Param p : opt.params) {
            long[] sh = saved.remove(p.name);
            if (sh == null) throw new FormatException(jp + ": has no state for parameter " + p.name);
            if (!Arrays.equals(sh, p.shape()))
                throw new FormatException(jp + ": parameter " + p.name + " was " + Arrays.toString(sh) + ", is now " + Arrays.toString(p.shape()));
        }
        if (!saved.isEmpty())
            throw new FormatException(jp + ": holds state for parameters this run does not train, e.g. " + saved.keySet().iterator().next());
        Path tp = dir.resolve(json.path("tensors").asText(TENSORS)).normalize();
        if (!tp.getParent().equals(dir.normalize())) throw new FormatException(jp + ": \"tensors\" must name a file in the same directory");
        try (SafetensorsFile f = SafetensorsFile.open(tp)) {
            // check everything before copying anything: a refused checkpoint leaves the optimizer as it was
            for (Param p : opt.params)
                for (String s : opt.stateSuffixes()) {
                    String name = p.name + "." + s;
                    var e = f.entries().get(name);
                    if (e == null) throw new FormatException(tp + ": missing tensor " + name);
                    if (e.dtype() != DType.F32 || !Arrays.equals(e.shape(), p.shape()))
                        throw new FormatException(tp + ": " + name + " is " + e.dtype() + Arrays.toString(e.shape())
                                + ", expected F32" + Arrays.toString(p.shape()));
                }
            for (int i = 0; i < opt.params.size(); i++)
                for (String s : opt.stateSuffixes()) {
                    float[] dst = opt.state(i, s);
                    MemorySegment.copy(f.bytes(opt.params.get(i).name + "." + s), LE_FLOAT, 0, dst, 0, dst.length);
                }
        } catch (FormatException e) {
            throw e;
        } catch (Exception e) {
            throw new FormatException(tp + ": cannot read optimizer state: " + e.getMessage(), e);
        }
        opt.steps = step;
        return new Saved(kind, step, json.path("hyperparameters"), json.path("schedule"));
    }
}
