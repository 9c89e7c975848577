package jllm.cli;

import jllm.formats.io.InputFile;
import jllm.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = {"Measure encoding speed: the file is encoded line by line (one thread), after a warm-up.",
                "The last line is always: mb_per_s=<float>"})
final class BenchTokenizerCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "Tokenizer file or directory")
    Path tokenizer;

    @Option(names = "--file", required = true, description = "UTF-8 text file")
    Path file;

    @Option(names = "--seconds", defaultValue = "3", description = "Minimum measured time (default ${DEFAULT-VALUE})")
    double seconds;

    @Override
    public Integer call() throws IOException {
        if (!(seconds > 0 && seconds <= 600)) throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
        String text = InputFile.text(file, "--file");
        Tokenizer tok = Tokenizer.load(tokenizer);
        String[] lines = text.split("(?<=\n)");
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        long tokens = 0;
        // Warm-up: let the JIT compile the hot paths before timing.
        long w0 = System.nanoTime();
        while (System.nanoTime() - w0 < 1_500_000_000L) for (String l : lines) tok.encode(l, false);
        int passes = 0;
        long t0 = System.nanoTime();
        do {
            tokens = 0;
            for (String l : lines) tokens += tok.encode(l, false).length;
            passes++;
        } while (System.nanoTime() - t0 < seconds * 1e9);
        double s = (System.nanoTime() - t0) / 1e9;
        double mb = bytes * (double) passes / 1e6;
        System.out.printf(Locale.ROOT, "tokenizer %s%nfile      %s (%d bytes, %d lines)%ntokens    %d per pass, %d passes, %.3f s%n",
                tokenizer, file, bytes, lines.length, tokens, passes, s);
        System.out.printf(Locale.ROOT, "mb_per_s=%.3f%n", mb / s);
        return 0;
    }
}
