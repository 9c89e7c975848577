package jllm.train.data;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import jllm.tokenizer.Tokenizer;

/**
 * A dataset file made ready for training: rows read and checked, formatted into examples, tokenized
 * with their label masks, split into train and validation, and packed into rows. What
 * {@code jllm finetune} calls; {@link #format()} is what it records beside the adapter.
 *
 * <h2>Policies</h2>
 * <ul>
 *   <li>Rows with nothing to train on (empty text, empty response, no assistant turn) are skipped and
 *       reported (count and first line numbers); an example whose labels are all masked is an error;
 *       examples with at least 90% of their tokens masked are reported.</li>
 *   <li>Too long for {@code --max-seq}: a prompt/response example is dropped (cutting it would train a
 *       response that stops mid-way, or none at all); a whole-text example is split into consecutive
 *       pieces of {@code maxSeq} tokens, so no text is lost. Both are counted in a warning; if nothing
 *       is left it is an error naming the shortest example's length.</li>
 *   <li>Validation: {@code round(valFraction * n)} examples (at least 1 when the fraction is above 0,
 *       at most n - 1), chosen by a seeded shuffle before packing; training rows are packed from a
 *       second seeded shuffle, and each epoch visits them in its own seeded order
 *       ({@link #epochOrder}).</li>
 * </ul>
 */
public final class TrainingData {
    /** Fraction of masked tokens from which an example is reported as mostly masked. */
    public static final double MOSTLY_MASKED = 0.9;
    private static final int SHOW_LINES = 5;

    public record Options(Path data, String promptTemplate, String outputColumn, String outputTemplate, String system,
                          boolean trainOnInputs, int maxSeq, double valFraction, long seed, boolean pack) {
        public Options {
            if (maxSeq < 2) throw new IllegalArgumentException("--max-seq must be at least 2, not " + maxSeq);
            if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("--val-fraction must be in [0, 1), not " + valFraction);
        }

        public static Options of(Path data, int maxSeq) {
            return new Options(data, null, null, null, null, false, maxSeq, 0, 1, true);
        }

        public Options table(String prompt, String outputColumn) {
            return new Options(data, prompt, outputColumn, null, system, trainOnInputs, maxSeq, valFraction, seed, pack);
        }

        public Options split(double fraction, long seed) {
            return new Options(data, promptTemplate, outputColumn, outputTemplate, system, trainOnInputs, maxSeq, fraction, seed, pack);
        }
    }

    /** Counts for the run's log. */
    public record Stats(int rows, int examples, int skipped, int dropped, int split, int mostlyMasked, int unstable,
                        long tokens, long trainedTokens, int trainRows, int valRows) { }

    private final PromptFormat format;
    private final List<PackedRow> train, validation;
    private final long seed;
    private final Stats stats;

    private TrainingData(PromptFormat format, List<PackedRow> train, List<PackedRow> validation, long seed, Stats stats) {
        this.format = format;
        this.train = train;
        this.validation = validation;
        this.seed = seed;
        this.stats = stats;
    }

    public PromptFormat format() { return format; }

    public List<PackedRow> train() { return train; }

    public List<PackedRow> validation() { return validation; }

    public Stats stats() { return stats; }

    /** The order epoch {@code epoch} (0-based) visits the training rows in; a pure function of seed and epoch. */
    public int[] epochOrder(int epoch) { return SplitMix64.of(seed, 1000L + epoch).permutation(train.size()); }

    /** The prompt format for a model: its chat template when it has one (null: the plain format). */
    public static PromptFormat formatFor(Tokenizer tok, String chatTemplate, String now, String system, PromptFormat.Input input) {
        if (chatTemplate != null) return PromptFormat.chat(chatTemplate, now, system, input);
        String eos = tok.specialTokens().get("eos_token");
        if (eos == null && tok.eosId().isPresent()) eos = tok.tokenText(tok.eosId().getAsInt());
        if (eos == null) throw new DatasetException(tok.source() + ": the tokenizer has no eos token; the plain prompt format ends each example with it");
        return PromptFormat.plain(system, ExampleEncoder.addsBos(tok), eos, input);
    }

    /**
     * @param chatTemplate the model's chat template (or the one given with --chat-template); null for the plain format
     * @param warn         receives one line per problem worth telling ("warning: ...")
     */
    public static TrainingData build(Options o, Tokenizer tok, String chatTemplate, Consumer<String> warn) {
        DatasetReader.Table table = DatasetReader.read(o.data());
        PromptFormat.Input input = RowFormatter.detect(table, o.promptTemplate(), o.outputColumn(), o.outputTemplate());
        String now = LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
        PromptFormat format = formatFor(tok, chatTemplate, now, o.system(), input);
        return build(o, table, format, tok, warn);
    }

    /** Builds with a given format (a resumed run passes the one it recorded, so the data is the same). */
    public static TrainingData build(Options o, DatasetReader.Table table, PromptFormat format, Tokenizer tok, Consumer<String> warn) {
        RowFormatter rows = new RowFormatter(format.input(), format.system());
        rows.checkColumns(table, true);
        ExampleEncoder enc = new ExampleEncoder(format, tok);
        Map<String, List<Integer>> skipped = new LinkedHashMap<>();
        List<ExampleEncoder.Encoded> examples = new ArrayList<>();
        List<Integer> droppedLines = new ArrayList<>();
        int dropped = 0, split = 0, mostlyMasked = 0, unstable = 0, shortestDropped = Integer.MAX_VALUE;
        for (Row row : table.rows()) {
            RowFormatter.Formatted f = rows.example(row);
            if (f.example() == null) {
                skipped.computeIfAbsent(f.skipped(), k -> new ArrayList<>()).add(row.line());
                continue;
            }
            ExampleEncoder.Encoded e = enc.encode(f.example(), o.trainOnInputs());
            int trained = requireTrainedTokens(e);
            if (e.unstableBoundary()) unstable++;
            if (e.length() > o.maxSeq()) {
                if (f.example().isText()) {
                    split++;
                    for (int from = 0; from < e.length(); from += o.maxSeq()) {
                        int to = Math.min(e.length(), from + o.maxSeq());
                        if (to - from < 2) continue;
                        examples.add(new ExampleEncoder.Encoded(row, java.util.Arrays.copyOfRange(e.ids(), from, to),
                                java.util.Arrays.copyOfRange(e.labels(), from, to), false));
                    }
                } else {
                    dropped++;
                    shortestDropped = Math.min(shortestDropped, e.length());
                    if (droppedLines.size() < SHOW_LINES) droppedLines.add(row.line());
                }
                continue;
            }
            if (e.length() - trained >= MOSTLY_MASKED * e.length()) mostlyMasked++;
            examples.add(e);
        }
        for (var s : skipped.entrySet())
            warn.accept("warning: " + table.file() + ": skipped " + s.getValue().size() + " row(s) with " + s.getKey() + " (" + lines(s.getValue()) + ")");
        for (var c : rows.emptyRequiredCounts().entrySet())
            warn.accept("warning: " + table.file() + ": " + c.getValue() + " row(s) have an empty {" + c.getKey()
                    + "} outside [[ ]]; it is written as an empty string (put that part in [[ ]] to leave it out instead)");
        if (dropped > 0)
            warn.accept("warning: " + table.file() + ": dropped " + dropped + " example(s) longer than --max-seq " + o.maxSeq()
                    + " tokens (" + lines(droppedLines) + (dropped > droppedLines.size() ? ", ..." : "") + "); raise --max-seq to keep them");
        if (split > 0)
            warn.accept("warning: " + table.file() + ": split " + split + " text example(s) longer than --max-seq " + o.maxSeq() + " into pieces of that length");
        if (examples.isEmpty()) {
            if (dropped > 0) throw new DatasetException(table.file() + ": every example is longer than --max-seq " + o.maxSeq()
                    + " (the shortest has " + shortestDropped + " tokens)");
            throw new DatasetException(table.file() + ": no example has anything to train on");
        }
        if (mostlyMasked > 0 && !o.trainOnInputs())
            warn.accept("warning: " + table.file() + ": " + mostlyMasked + " of " + examples.size() + " examples have >= 90% of their tokens masked "
                    + "(loss only on the response; expected for short answers, else check the prompt format)");
        if (unstable > 0)
            warn.accept("warning: " + table.file() + ": in " + unstable + " example(s) a token spans the prompt/response boundary; it is trained as part of the response");

        int n = examples.size();
        int nVal = o.valFraction() > 0 ? (int) Math.max(1, Math.round(o.valFraction() * n)) : 0;
        if (nVal >= n) {
            if (o.valFraction() > 0) warn.accept("warning: " + table.file() + ": " + n + " example(s) are too few to hold some out for validation; no validation set");
            nVal = 0;
        }
        int[] perm = SplitMix64.of(o.seed(), 1).permutation(n);
        boolean[] isVal = new boolean[n];
        for (int i = 0; i < nVal; i++) isVal[perm[i]] = true;
        List<ExampleEncoder.Encoded> val = new ArrayList<>(), tr = new ArrayList<>();
        for (int i = 0; i < n; i++) if (isVal[i]) val.add(examples.get(i));
        for (int i : SplitMix64.of(o.seed(), 2).permutation(n)) if (!isVal[i]) tr.add(examples.get(i));
        List<PackedRow> trainRows = Packer.pack(tr, o.maxSeq(), o.pack()), valRows = Packer.pack(val, o.maxSeq(), o.pack());
        long tokens = 0, trainedTokens = 0;
        for (ExampleEncoder.Encoded e : examples) {
            tokens += e.length();
            trainedTokens += e.trained();
        }
        int skippedCount = skipped.values().stream().mapToInt(List::size).sum();
        Stats stats = new Stats(table.rows().size(), n, skippedCount, dropped, split, mostlyMasked, unstable, tokens, trainedTokens,
                trainRows.size(), valRows.size());
        return new TrainingData(format, trainRows, valRows, o.seed(), stats);
    }

    /** An example with no trained token is an error (a template or data problem), never silently skipped. */
    static int requireTrainedTokens(ExampleEncoder.Encoded e) {
        int trained = e.trained();
        if (trained == 0)
            throw new DatasetException(e.row().where() + ": every token of this example is masked: no response tokens to learn from");
        return trained;
    }

    private static String lines(List<Integer> ls) {
        StringBuilder b = new StringBuilder(ls.size() == 1 ? "line " : "lines ");
        for (int i = 0; i < Math.min(SHOW_LINES, ls.size()); i++) b.append(i > 0 ? ", " : "").append(ls.get(i));
        if (ls.size() > SHOW_LINES) b.append(", ...");
        return b.toString();
    }
}
