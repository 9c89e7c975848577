package jllm.train.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jllm.tokenizer.Tokenizer;

/**
 * What {@code jllm predict} feeds the model: every row of a dataset formatted by the prompt format an
 * adapter recorded, through the same {@link RowFormatter} and {@link ExampleEncoder} training used, so
 * the prompt tokens are exactly those training put before each response.
 */
public final class PredictionInputs {
    /** One row: its prompt ids and, when the file has the output column (or turn), the expected response. */
    public record Item(Row row, int[] promptIds, String expected) { }

    private PredictionInputs() { }

    /** Rows in file order; the output column may be missing (then nothing is scored). */
    public static List<Item> load(Path data, PromptFormat format, Tokenizer tok) {
        return load(DatasetReader.read(data), format, tok);
    }

    public static List<Item> load(DatasetReader.Table table, PromptFormat format, Tokenizer tok) {
        if (format.input().kind() == PromptFormat.Kind.TEXT)
            throw new DatasetException("the adapter was trained on {\"text\"} examples: there is no prompt format to predict with");
        RowFormatter rows = new RowFormatter(format.input(), format.system());
        rows.checkColumns(table, false);
        ExampleEncoder enc = new ExampleEncoder(format, tok);
        List<Item> out = new ArrayList<>(table.rows().size());
        for (Row r : table.rows()) out.add(new Item(r, enc.promptIds(rows.prompt(r)), rows.hasOutput(table) ? rows.expected(r) : null));
        return out;
    }
}
