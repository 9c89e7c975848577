package jllm.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * How dataset rows were turned into token sequences, recorded beside what a run produces (the
 * adapter's {@code adapter_config.json} under the {@code "jllm"} key) so that {@code predict}, chat
 * and exports prompt the model exactly as it was trained.
 *
 * <ul>
 *   <li>{@link Style#CHAT_TEMPLATE}: each example is a conversation rendered with {@code chatTemplate}
 *       (the Jinja source itself is recorded, with the {@code now} that {@code strftime_now} saw, so
 *       a template that prints today's date renders the same at prediction time).</li>
 *   <li>{@link Style#PLAIN} (the model has no chat template): {@code [bos] prompt [sep] response eos},
 *       where {@code sep} is {@link #separator} unless the prompt ends or the response starts with
 *       whitespace; a system text is put before the prompt with a blank line between.</li>
 * </ul>
 * {@link Input} says how a row becomes a conversation (see {@link RowFormatter}).
 */
public record PromptFormat(Style style, String chatTemplate, String now, String system, String separator, boolean bos, String eos,
                           Input input) {
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Style { CHAT_TEMPLATE, PLAIN }

    /** Dataset shapes. */
    public enum Kind { TEXT, ALPACA, PROMPT_COMPLETION, MESSAGES, SHAREGPT, TABLE }

    /** For {@link Kind#TABLE}: the prompt template and the response column or template. */
    public record Input(Kind kind, String promptTemplate, String outputColumn, String outputTemplate) {
        public static Input of(Kind kind) { return new Input(kind, null, null, null); }
    }

    public static PromptFormat chat(String template, String now, String system, Input input) {
        return new PromptFormat(Style.CHAT_TEMPLATE, template, now, system, null, false, null, input);
    }

    public static PromptFormat plain(String system, boolean bos, String eos, Input input) {
        return new PromptFormat(Style.PLAIN, null, null, system, " ", bos, eos, input);
    }

    public PromptFormat withInput(Input in) { return new PromptFormat(style, chatTemplate, now, system, separator, bos, eos, in); }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("version", VERSION);
        o.put("style", style.name().toLowerCase(Locale.ROOT));
        if (style == Style.CHAT_TEMPLATE) {
            o.put("chat_template", chatTemplate);
            if (now != null) o.put("now", now);
        } else {
            o.put("bos", bos);
            o.put("eos", eos);
            o.put("separator", separator);
        }
        if (system != null) o.put("system", system);
        ObjectNode in = o.putObject("input");
        in.put("kind", input.kind.name().toLowerCase(Locale.ROOT));
        if (input.promptTemplate != null) in.put("prompt_template", input.promptTemplate);
        if (input.outputColumn != null) in.put("output_column", input.outputColumn);
        if (input.outputTemplate != null) in.put("output_template", input.outputTemplate);
        return o;
    }

    /** Reads what {@link #toJson()} wrote; {@code where} names the file in errors. */
    public static PromptFormat fromJson(String where, JsonNode o) {
        if (o == null || !o.isObject()) throw new DatasetException(where + ": no prompt format recorded");
        int v = o.path("version").asInt(-1);
        if (v != VERSION) throw new DatasetException(where + ": prompt format version " + v + " is not supported (this jllm reads " + VERSION + ")");
        Style style = parse(where, Style.class, o.path("style").asText(""));
        JsonNode in = o.path("input");
        Input input = new Input(parse(where, Kind.class, in.path("kind").asText("")), text(in, "prompt_template"), text(in, "output_column"),
                text(in, "output_template"));
        if (input.kind == Kind.TABLE && (input.promptTemplate == null || (input.outputColumn == null) == (input.outputTemplate == null)))
            throw new DatasetException(where + ": a table prompt format needs prompt_template and one of output_column / output_template");
        if (style == Style.CHAT_TEMPLATE) {
            String t = text(o, "chat_template");
            if (t == null) throw new DatasetException(where + ": chat_template style without a chat_template");
            return new PromptFormat(style, t, text(o, "now"), text(o, "system"), null, false, null, input);
        }
        String eos = text(o, "eos");
        if (eos == null) throw new DatasetException(where + ": plain style without an eos token");
        return new PromptFormat(style, null, null, text(o, "system"), o.path("separator").asText(" "), o.path("bos").asBoolean(false), eos, input);
    }

    private static String text(JsonNode o, String k) {
        JsonNode n = o.get(k);
        return n == null || n.isNull() ? null : n.asText();
    }

    private static <E extends Enum<E>> E parse(String where, Class<E> type, String s) {
        try {
            return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new DatasetException(where + ": unknown prompt format " + type.getSimpleName().toLowerCase(Locale.ROOT) + " \"" + s + "\"");
        }
    }
}
