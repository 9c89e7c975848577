package jllm.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.formats.TensorStore;
import jllm.formats.io.OutputFile;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.Parallel;
import jllm.tokenizer.Tokenizer;
import jllm.train.export.GgufExport;
import jllm.train.export.Modelfile;
import jllm.train.merge.BaseCheckpoint;
import jllm.train.merge.MergedTensors;
import jllm.train.peft.PeftAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model, with a LoRA adapter merged in (fp32), as one GGUF file for llama.cpp and Ollama;",
                "--ollama also writes a Modelfile beside it (FROM, TEMPLATE translated from the chat template, SYSTEM, PARAMETER stop)."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Base model: HF directory, .gguf, llama2.c .bin, or 'default' (also when omitted)")
    Path model;

    @Option(names = "--adapter", description = "LoRA adapter directory (PEFT layout) to merge in")
    Path adapter;

    @Option(names = "--to", required = true, description = "Output .gguf file")
    Path out;

    @Option(names = "--type", defaultValue = "q8_0", description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k (default ${DEFAULT-VALUE})")
    String type;

    @Mixin
    PureOption pure;

    @Option(names = "--ollama", description = "Also write an Ollama Modelfile beside the GGUF")
    boolean ollama;

    @Option(names = "--overwrite", description = "Replace existing output files")
    boolean overwrite;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        GgufConverter.FileType ft = GgufConverter.FileType.parse(type);
        if (!out.getFileName().toString().endsWith(".gguf")) throw new IllegalArgumentException("--to " + out + ": the file name must end with .gguf");
        Path base = Models.resolve(model);
        List<Path> inputs = new ArrayList<>(List.of(base));
        if (adapter != null) inputs.add(adapter);
        OutputFile.check(out, overwrite, inputs);
        Path modelfile = out.toAbsolutePath().resolveSibling("Modelfile");
        if (ollama) OutputFile.check(modelfile, overwrite, inputs);
        long t0 = System.nanoTime();
        PeftAdapter a = adapter == null ? null : PeftAdapter.read(adapter);
        int n = Threads.resolve(threads);
        try (BaseCheckpoint b = BaseCheckpoint.open(base)) {
            TensorStore tensors = a == null ? b.tensors() : new MergedTensors(b.tensors(), a, Parallel.shared(n));
            if (b.gguf() != null) System.err.println("note: " + base + " is a GGUF file: its weights are re-encoded as " + ft
                    + " from their stored values (export from the original checkpoint to avoid quantizing twice)");
            ProgressLine progress = new ProgressLine();
            GgufExport.write(b, tensors, out, ft, pure.pure, s -> progress.update("export " + s, false));
            progress.finish();
            System.err.printf(Locale.ROOT, "wrote %s (%s%s) in %.1f s%n", out, ft.name().toLowerCase(Locale.ROOT),
                    a == null ? "" : ", " + a.layers.size() + " LoRA layers merged", (System.nanoTime() - t0) / 1e9);
            if (ollama) {
                Tokenizer tok = Tokenizer.load(b.dir() != null ? b.dir() : base);
                String from = modelfile.getParent().equals(out.toAbsolutePath().getParent()) ? out.getFileName().toString() : out.toAbsolutePath().toString();
                Modelfile.Result r = Modelfile.build(from, tok.chatTemplate().orElse(null), tok, a == null ? null : a.promptFormat, LocalDateTime.now());
                r.warnings().forEach(System.err::println);
                Modelfile.write(modelfile, overwrite, inputs, r);
                System.err.println("wrote " + modelfile + "  (ollama create NAME -f " + modelfile + ")");
            }
        }
        return 0;
    }
}
