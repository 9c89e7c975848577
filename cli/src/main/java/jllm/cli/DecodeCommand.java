package jllm.cli;

import jllm.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "decode", mixinStandardHelpOptions = true, description = "Print the text of a list of token ids.")
final class DecodeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "Tokenizer file or directory")
    Path tokenizer;

    @Option(names = "--ids", required = true, description = "Comma-separated token ids, e.g. 1,15043,3186")
    String ids;

    @Option(names = "--skip-special", description = "Leave out special tokens")
    boolean skipSpecial;

    @Override
    public Integer call() {
        Tokenizer tok = Tokenizer.load(tokenizer);
        String[] parts = ids.trim().isEmpty() ? new String[0] : ids.split("[,\\s]+");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + parts[i] + "' is not an integer");
            }
            if (v[i] < 0 || v[i] >= tok.vocabSize()) throw new IllegalArgumentException("--ids: " + v[i] + " is outside the vocabulary (0.." + (tok.vocabSize() - 1) + ")");
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println(tok.decode(v, skipSpecial));
        return 0;
    }
}
