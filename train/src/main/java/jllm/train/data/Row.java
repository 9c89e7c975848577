package jllm.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One record of a dataset file: a JSON object (a JSONL line, an element of a JSON array, or a CSV/TSV
 * row whose cells are strings), and where it came from, for error messages.
 */
public record Row(String file, int line, ObjectNode fields) {
    /** "FILE:LINE" for messages. */
    public String where() { return file + ":" + line; }

    /**
     * A field as text for prompt templates: strings as they are, numbers and booleans as JSON writes
     * them, null or absent as null. Objects and arrays are not table cells.
     */
    public String text(String column) {
        JsonNode v = fields.get(column);
        if (v == null || v.isNull() || v.isMissingNode()) return null;
        if (v.isTextual()) return v.asText();
        if (v.isValueNode()) return v.toString();
        throw new DatasetException(where() + ": column \"" + column + "\" holds a JSON " + (v.isArray() ? "array" : "object")
                + ", not a value that can go into a prompt template");
    }

    /** Empty means absent, null, or only whitespace: a missing value in a table. */
    public static boolean isEmpty(String s) { return s == null || s.isBlank(); }
}
