package jllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import jllm.formats.io.TextFile;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.train.TokenizerTrainer;
import jllm.tokenizer.train.TrainedTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jllm tokenizer train}: learns a BPE tokenizer from a text file. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true, description = "Make tokenizers.",
        subcommands = TokenizerCommand.Train.class)
public final class TokenizerCommand extends CommandGroup {


    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Learn a BPE tokenizer from a UTF-8 text file and write tokenizer.json + tokenizer_config.json "
                    + "(loadable by transformers, Hugging Face tokenizers and llama.cpp's converter).")
    static final class Train implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--data", required = true, paramLabel = "TEXT", description = "UTF-8 text corpus")
        Path data;

        @Option(names = "--vocab", required = true, paramLabel = "N", description = "vocabulary size, special tokens included")
        int vocab;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (created; must be empty unless --overwrite)")
        Path out;

        @Option(names = "--kind", defaultValue = "byte-level", paramLabel = "KIND",
                description = "byte-level (GPT-2/Llama 3 style, default) or byte-fallback (SentencePiece-style BPE)")
        String kind;

        @Option(names = "--val-fraction", defaultValue = "0", paramLabel = "F",
                description = "train on the first 1-F of the text and report characters per token on the last F (nanoGPT's split: 0.1)")
        double valFraction;

        @Option(names = "--special", paramLabel = "TOKEN", description = "an extra special token (repeatable), e.g. a chat marker")
        List<String> extra = new ArrayList<>();

        @Option(names = "--bos", defaultValue = "<|bos|>", paramLabel = "TOKEN") String bos;
        @Option(names = "--eos", defaultValue = "<|eos|>", paramLabel = "TOKEN") String eos;
        @Option(names = "--pad", defaultValue = "<|pad|>", paramLabel = "TOKEN") String pad;

        @Option(names = "--no-bos", description = "do not prepend the bos token when encoding with special tokens")
        boolean noBos;

        @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "N", description = "merge only pairs seen at least N times")
        long minFrequency;

        @Option(names = "--chat-template", paramLabel = "FILE", description = "a Jinja chat template to store in tokenizer_config.json")
        Path chatTemplate;

        @Option(names = "--overwrite", description = "write into a non-empty output directory")
        boolean overwrite;

        @Override
        public Integer call() throws IOException {
            TokenizerTrainer.Kind k = switch (kind) {
                case "byte-level" -> TokenizerTrainer.Kind.BYTE_LEVEL;
                case "byte-fallback" -> TokenizerTrainer.Kind.BYTE_FALLBACK;
                default -> throw new IllegalArgumentException("--kind must be byte-level or byte-fallback, not " + kind);
            };
            if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("--val-fraction must be in [0, 1), not " + valFraction);
            if (pad.equals(eos)) throw new IllegalArgumentException("--pad must differ from --eos: a model trained with pad = eos never learns to stop");
            boolean existed = java.nio.file.Files.exists(out);
            jllm.formats.io.OutputFile.directory(out, overwrite, List.of(data));
            try {
                return train(k);
            } catch (RuntimeException e) {
                // Leave no empty directory behind for a run that failed before writing anything.
                if (!existed) try { java.nio.file.Files.deleteIfExists(out); } catch (IOException ignored) { }
                throw e;
            }
        }

        private int train(TokenizerTrainer.Kind k) {
            String template = null;
            if (chatTemplate != null) template = TextFile.readUtf8(chatTemplate);
            String text = TextFile.readUtf8(data);
            if (text.isEmpty()) throw new IllegalArgumentException(data + ": is empty");
            int cut = splitPoint(text, valFraction);
            String train = text.substring(0, cut), val = text.substring(cut);
            List<String> specials = new ArrayList<>(List.of(bos, eos, pad));
            specials.addAll(extra);
            PrintWriter err = spec.commandLine().getErr();
            long t0 = System.nanoTime();
            TrainedTokenizer t = TokenizerTrainer.train(train,
                    new TokenizerTrainer.Options(k, vocab, specials, !noBos, template, minFrequency), m -> err.println(m));
            double secs = (System.nanoTime() - t0) / 1e9;
            t.write(out, overwrite, List.of(data));
            Tokenizer tok = Tokenizer.load(out);
            PrintWriter o = spec.commandLine().getOut();
            o.printf("wrote %s: %s BPE, %d tokens (%d merges, %d special), trained in %.2f s%n", out, kind, t.vocabSize(), t.merges.size(),
                    t.specials.size(), secs);
            o.printf("chars/token train=%.3f", charsPerToken(tok, train));
            if (!val.isEmpty()) o.printf(" val=%.3f", charsPerToken(tok, val));
            o.println();
            return 0;
        }

        /**
         * The first 1-f of the text, cut at a character boundary: {@code int(n * (1 - f))} as nanoGPT cuts
         * the character sequence and as {@code jllm train} splits it, so the tokenizer never sees a
         * character of the validation text.
         */
        static int splitPoint(String text, double f) {
            int cut = (int) (text.length() * (1 - f));
            if (cut > 0 && cut < text.length() && Character.isLowSurrogate(text.charAt(cut))) cut--;
            return cut;
        }

        static double charsPerToken(Tokenizer tok, String text) {
            long chars = text.codePointCount(0, text.length());
            long tokens = tok.encode(text, false).length;
            return tokens == 0 ? 0 : (double) chars / tokens;
        }
    }
}
