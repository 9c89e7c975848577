package jllm.train.data;

import java.util.List;

/**
 * A dataset row made ready to tokenize: either plain text trained on as a whole, or a conversation
 * whose assistant turns are the responses.
 */
public record Example(Row row, String text, List<Message> messages) {
    public static Example text(Row row, String text) { return new Example(row, text, null); }

    public static Example chat(Row row, List<Message> messages) { return new Example(row, null, List.copyOf(messages)); }

    public boolean isText() { return text != null; }
}
