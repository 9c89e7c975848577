package jllm.train.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import jllm.formats.io.OutputFile;

/** {@code predict}'s output file: one JSON line {@code {"output": "..."}} per input row, in input order. */
public final class PredictionOutput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionOutput() { }

    public static Path writeJsonl(Path target, boolean overwrite, Collection<Path> inputs, List<String> outputs) {
        return OutputFile.write(target, overwrite, inputs, (OutputFile.StreamBody) os -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8));
            for (String o : outputs) {
                w.write(JSON.createObjectNode().put("output", o).toString());
                w.write('\n');
            }
            w.flush();
        });
    }
}
