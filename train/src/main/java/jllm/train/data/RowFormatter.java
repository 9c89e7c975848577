package jllm.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.train.data.PromptFormat.Input;
import jllm.train.data.PromptFormat.Kind;

/**
 * Turns dataset rows into examples, the same way for training and for prediction: one function per
 * shape, driven by the recorded {@link PromptFormat.Input}, so {@code predict} builds exactly the
 * prompt training built.
 *
 * <p>Shapes: {@code {"text"}} (trained on whole); {@code {"instruction","input","output"}} (Alpaca: the
 * user turn is the instruction, then a blank line and the input when there is one);
 * {@code {"prompt","completion"}}; {@code {"messages":[{"role","content"}]}}; ShareGPT
 * {@code {"conversations":[{"from","value"}]}}; and table rows through a {@link PromptTemplate}. Roles
 * are normalised: human/user to user, gpt/model/assistant to assistant, system stays.
 */
public final class RowFormatter {
    private final Input input;
    private final String system;
    private final PromptTemplate prompt;
    private final PromptTemplate output;
    private final Map<String, Integer> emptyRequired = new LinkedHashMap<>();

    public RowFormatter(Input input, String system) {
        this.input = input;
        this.system = system;
        if (input.kind() == Kind.TABLE) {
            this.prompt = PromptTemplate.parse("--prompt-template", input.promptTemplate());
            this.output = input.outputTemplate() == null ? null : PromptTemplate.parse("--output-template", input.outputTemplate());
        } else {
            this.prompt = null;
            this.output = null;
        }
    }

    public Input input() { return input; }

    /**
     * The shape of a dataset: a table when a prompt template is given (CSV/TSV always need one), else
     * told by the keys of the first row.
     */
    public static Input detect(DatasetReader.Table t, String promptTemplate, String outputColumn, String outputTemplate) {
        if (outputColumn != null && outputTemplate != null)
            throw new DatasetException("pass --output-column or --output-template, not both");
        if (promptTemplate != null) {
            if (outputColumn == null && outputTemplate == null)
                throw new DatasetException("--prompt-template needs --output-column NAME (or --output-template) for the response; "
                        + "columns of " + t.file() + ": " + String.join(", ", t.columns()));
            return new Input(Kind.TABLE, promptTemplate, outputColumn, outputTemplate);
        }
        if (outputColumn != null || outputTemplate != null)
            throw new DatasetException((outputColumn != null ? "--output-column" : "--output-template") + " needs --prompt-template for the prompt");
        if (t.isTable())
            throw new DatasetException(t.file() + " is a table; pass --prompt-template '...{Column}...' and --output-column NAME (columns: "
                    + String.join(", ", t.columns()) + ")");
        Row first = t.rows().get(0);
        JsonNode f = first.fields();
        if (f.has("messages")) return Input.of(Kind.MESSAGES);
        if (f.has("conversations")) return Input.of(Kind.SHAREGPT);
        if (f.has("instruction") && f.has("output")) return Input.of(Kind.ALPACA);
        if (f.has("prompt") && f.has("completion")) return Input.of(Kind.PROMPT_COMPLETION);
        if (f.has("text")) return Input.of(Kind.TEXT);
        List<String> keys = new ArrayList<>();
        f.fieldNames().forEachRemaining(keys::add);
        throw new DatasetException(first.where() + ": cannot tell the dataset's shape from the keys " + keys + "; expected {\"text\"}, "
                + "{\"instruction\",\"input\",\"output\"}, {\"prompt\",\"completion\"}, {\"messages\":[...]} or {\"conversations\":[...]}, "
                + "or pass --prompt-template and --output-column to build prompts from these keys");
    }

    /** Checks that the template's columns exist; the output column is required only when {@code needOutput}. */
    public void checkColumns(DatasetReader.Table t, boolean needOutput) {
        if (input.kind() != Kind.TABLE) return;
        prompt.checkColumns("--prompt-template", t.file(), t.columns());
        if (output != null && needOutput) output.checkColumns("--output-template", t.file(), t.columns());
        if (input.outputColumn() != null && needOutput && !t.columns().contains(input.outputColumn()))
            throw new DatasetException("--output-column " + input.outputColumn() + ": " + t.file() + " has no such column; available columns: "
                    + String.join(", ", t.columns()));
    }

    /** Whether the table has what {@link #expected} needs. */
    public boolean hasOutput(DatasetReader.Table t) {
        if (input.kind() != Kind.TABLE) return true;
        if (input.outputColumn() != null) return t.columns().contains(input.outputColumn());
        return t.columns().containsAll(output.columns());
    }

    /** A row's example, or the reason it has nothing to train on (then {@code example} is null). */
    public record Formatted(Example example, String skipped) { }

    public Formatted example(Row row) {
        if (input.kind() == Kind.TEXT) {
            String text = string(row, "text");
            return Row.isEmpty(text) ? skip("empty \"text\"") : new Formatted(Example.text(row, text), null);
        }
        List<Message> conv = conversation(row);
        int last = lastAssistant(conv);
        if (last < 0) return skip("no assistant turn");
        for (Message m : conv) {
            if (m.role().equals(Message.ASSISTANT) && m.content().isBlank()) return skip("an empty response");
        }
        return new Formatted(Example.chat(row, conv), null);
    }

    private static Formatted skip(String why) { return new Formatted(null, why); }

    /** The conversation up to the response: what {@code predict} renders as the prompt. */
    public List<Message> prompt(Row row) {
        if (input.kind() == Kind.TEXT) throw new DatasetException(row.where() + ": a {\"text\"} dataset has no prompts to predict from");
        List<Message> conv = conversation(row);
        int last = lastAssistant(conv);
        return last < 0 ? conv : conv.subList(0, last);
    }

    /** The expected response of a row (the last assistant turn), or null when the row has none. */
    public String expected(Row row) {
        if (input.kind() == Kind.TEXT) return null;
        if (input.kind() == Kind.TABLE) {
            if (input.outputColumn() != null) return row.fields().has(input.outputColumn()) ? row.text(input.outputColumn()) : null;
            for (String c : output.columns()) if (!row.fields().has(c)) return null;
            return output.render(row).text();
        }
        List<Message> conv = conversation(row);
        int last = lastAssistant(conv);
        return last < 0 ? null : conv.get(last).content();
    }

    /** How many rows left each column empty outside an optional part (for a warning). */
    public Map<String, Integer> emptyRequiredCounts() { return emptyRequired; }

    private static int lastAssistant(List<Message> conv) {
        for (int i = conv.size() - 1; i >= 0; i--) if (conv.get(i).role().equals(Message.ASSISTANT)) return i;
        return -1;
    }

    private List<Message> conversation(Row row) {
        List<Message> conv = new ArrayList<>();
        switch (input.kind()) {
            case ALPACA -> {
                String instruction = string(row, "instruction"), in = optString(row, "input"), out = optString(row, "output");
                String user = Row.isEmpty(in) ? nz(instruction) : nz(instruction) + "\n\n" + in;
                conv.add(new Message(Message.USER, user));
                if (out != null) conv.add(new Message(Message.ASSISTANT, out));
            }
            case PROMPT_COMPLETION -> {
                conv.add(new Message(Message.USER, nz(string(row, "prompt"))));
                String c = optString(row, "completion");
                if (c != null) conv.add(new Message(Message.ASSISTANT, c));
            }
            case MESSAGES -> turns(row, "messages", "role", "content", conv);
            case SHAREGPT -> turns(row, "conversations", "from", "value", conv);
            case TABLE -> {
                PromptTemplate.Result p = prompt.render(row);
                for (String c : p.emptyRequired()) emptyRequired.merge(c, 1, Integer::sum);
                conv.add(new Message(Message.USER, p.text()));
                String out = input.outputColumn() != null ? (row.fields().has(input.outputColumn()) ? row.text(input.outputColumn()) : null)
                        : output.render(row).text();
                if (out != null) conv.add(new Message(Message.ASSISTANT, out));
            }
            case TEXT -> throw new IllegalStateException();
        }
        if (system != null && (conv.isEmpty() || !conv.get(0).role().equals(Message.SYSTEM))) conv.add(0, new Message(Message.SYSTEM, system));
        return conv;
    }

    private static String nz(String s) { return s == null ? "" : s; }

    private static void turns(Row row, String key, String roleKey, String contentKey, List<Message> out) {
        JsonNode arr = row.fields().get(key);
        if (arr == null) throw new DatasetException(row.where() + ": no \"" + key + "\" (the first row has it; every row must have the same shape)");
        if (!arr.isArray()) throw new DatasetException(row.where() + ": \"" + key + "\" must be an array of turns");
        int i = 0;
        for (JsonNode t : arr) {
            i++;
            if (!t.isObject()) throw new DatasetException(row.where() + ": turn " + i + " of \"" + key + "\" is not an object");
            JsonNode r = t.get(roleKey);
            if (r == null || !r.isTextual()) throw new DatasetException(row.where() + ": turn " + i + " of \"" + key + "\" has no \"" + roleKey + "\" string");
            JsonNode c = t.get(contentKey);
            String content;
            if (c == null || c.isNull()) content = "";
            else if (c.isTextual()) content = c.asText();
            else throw new DatasetException(row.where() + ": turn " + i + ": \"" + contentKey + "\" must be a string");
            out.add(new Message(role(row, i, r.asText()), content));
        }
        if (out.isEmpty()) throw new DatasetException(row.where() + ": \"" + key + "\" is empty");
    }

    static String role(Row row, int turn, String r) {
        return switch (r) {
            case "user", "human" -> Message.USER;
            case "assistant", "gpt", "model" -> Message.ASSISTANT;
            case "system" -> Message.SYSTEM;
            default -> throw new DatasetException(row.where() + ": turn " + turn + " has role \"" + r
                    + "\"; training data supports system, user/human and assistant/gpt/model turns");
        };
    }

    private static String string(Row row, String key) {
        JsonNode n = row.fields().get(key);
        if (n == null) throw new DatasetException(row.where() + ": no \"" + key + "\" (the first row has it; every row must have the same shape)");
        if (n.isNull()) return null;
        if (!n.isTextual()) throw new DatasetException(row.where() + ": \"" + key + "\" must be a string");
        return n.asText();
    }

    private static String optString(Row row, String key) {
        JsonNode n = row.fields().get(key);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new DatasetException(row.where() + ": \"" + key + "\" must be a string");
        return n.asText();
    }
}
