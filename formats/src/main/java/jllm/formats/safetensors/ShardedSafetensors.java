package jllm.formats.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.Tensor;

/** A checkpoint split over several safetensors files, joined by {@code model.safetensors.index.json}. */
public final class ShardedSafetensors implements TensorStore {
    private final Path index;
    private final Map<String, SafetensorsFile> byTensor;

    private ShardedSafetensors(Path index, Map<String, SafetensorsFile> byTensor) {
        this.index = index;
        this.byTensor = byTensor;
    }

    /** Opens a directory's checkpoint: the index if there is one, else {@code model.safetensors}. */
    public static TensorStore openDirectory(Path dir) {
        Path idx = dir.resolve("model.safetensors.index.json");
        if (Files.exists(idx)) return open(idx);
        Path single = dir.resolve("model.safetensors");
        if (Files.exists(single)) return SafetensorsFile.open(single);
        throw new FormatException(dir + ": no model.safetensors or model.safetensors.index.json");
    }

    public static ShardedSafetensors open(Path indexFile) {
        JsonNode root = jllm.formats.io.InputFile.json(indexFile, null);
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(indexFile + ": missing weight_map");
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        for (var e : map.properties()) {
            String file = e.getValue().asText();
            Path p = dir.resolve(file).normalize();
            if (!p.startsWith(dir) || file.isEmpty()) throw new FormatException(indexFile + ": shard path '" + file + "' leaves the model directory");
            SafetensorsFile shard = shards.computeIfAbsent(file, f -> SafetensorsFile.open(p));
            if (!shard.names().contains(e.getKey()))
                throw new FormatException(indexFile + ": tensor '" + e.getKey() + "' is mapped to " + file + " which does not contain it");
            byTensor.put(e.getKey(), shard);
        }
        for (SafetensorsFile shard : shards.values())
            for (String n : shard.names())
                if (byTensor.get(n) != shard)
                    throw new FormatException(indexFile + ": tensor '" + n + "' in " + shard.path().getFileName() + " is not in the weight_map (or mapped elsewhere)");
        return new ShardedSafetensors(indexFile, Collections.unmodifiableMap(byTensor));
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw missing(name);
        return f;
    }

    @Override public String source() { return index.toString(); }

    @Override public Set<String> names() { return byTensor.keySet(); }

    @Override
    public java.util.List<Path> files() {
        java.util.Set<Path> out = new java.util.LinkedHashSet<>();
        out.add(index);
        for (SafetensorsFile f : byTensor.values()) out.add(f.path());
        return java.util.List.copyOf(out);
    }

    @Override public Info info(String name) { return shard(name).info(name); }

    @Override public Tensor tensor(String name) { return shard(name).tensor(name); }

    @Override public long[] longs(String name) { return shard(name).longs(name); }
}
