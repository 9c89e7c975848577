package jllm.train.data;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jllm.formats.io.TextFile;

/**
 * Reads a dataset file into rows: JSON Lines ({@code .jsonl}, {@code .ndjson}), a JSON array of objects
 * or JSON Lines ({@code .json}), CSV ({@code .csv}) and TSV ({@code .tsv}, {@code .tab}).
 *
 * <p>Every problem is reported with the file and line: invalid UTF-8, invalid JSON, a line that is not
 * an object, a CSV row with more or fewer fields than the header, an unterminated quote, duplicate or
 * empty header names, an empty file. CSV and TSV follow RFC 4180 (fields in double quotes may hold the
 * separator, newlines and doubled quotes); they are parsed by Jackson's CSV module, which needs nothing
 * beyond the Jackson release jllm already uses (Commons CSV would bring commons-io and commons-codec).
 */
public final class DatasetReader {
    public enum Format { JSONL, JSON_ARRAY, CSV, TSV }

    /** The rows of a file and its columns (the CSV header, or the keys of the JSON objects in first-seen order). */
    public record Table(String file, Format format, List<String> columns, List<Row> rows) {
        public boolean isTable() { return format == Format.CSV || format == Format.TSV; }
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** For reading elements one by one from a stream (the trailing-token check applies to whole documents). */
    private static final ObjectMapper JSON_STREAM = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private DatasetReader() { }

    public static Table read(Path file) {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString().toLowerCase(Locale.ROOT);
        Format format;
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) format = Format.JSONL;
        else if (name.endsWith(".json")) format = Format.JSON_ARRAY;
        else if (name.endsWith(".csv")) format = Format.CSV;
        else if (name.endsWith(".tsv") || name.endsWith(".tab")) format = Format.TSV;
        else throw new DatasetException(file + ": unknown dataset format; name it .jsonl, .json, .csv or .tsv");
        String text = TextFile.readUtf8(file);
        return parse(file.toString(), format, text);
    }

    public static Table parse(String file, Format format, String text) {
        if (text.isBlank()) throw new DatasetException(file + ": is empty (no examples)");
        Table t = switch (format) {
            case JSONL -> jsonLines(file, text);
            case JSON_ARRAY -> text.stripLeading().startsWith("[") ? jsonArray(file, text) : jsonLines(file, text);
            case CSV -> delimited(file, Format.CSV, ',', text);
            case TSV -> delimited(file, Format.TSV, '\t', text);
        };
        if (t.rows.isEmpty()) throw new DatasetException(file + ": has no examples" + (t.isTable() ? " (only a header row)" : ""));
        return t;
    }

    private static Table jsonLines(String file, String text) {
        List<Row> rows = new ArrayList<>();
        Set<String> columns = new LinkedHashSet<>();
        int lineNo = 0;
        for (String line : text.split("\r?\n", -1)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (JacksonException e) {
                throw new DatasetException(file + ":" + lineNo + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (!(n instanceof ObjectNode o))
                throw new DatasetException(file + ":" + lineNo + ": expected a JSON object on each line, got " + kind(n));
            o.fieldNames().forEachRemaining(columns::add);
            rows.add(new Row(file, lineNo, o));
        }
        return new Table(file, Format.JSONL, List.copyOf(columns), rows);
    }

    private static Table jsonArray(String file, String text) {
        List<Row> rows = new ArrayList<>();
        Set<String> columns = new LinkedHashSet<>();
        try (JsonParser p = JSON_STREAM.createParser(text)) {
            p.nextToken();
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == null) throw new DatasetException(file + ": the JSON array is not closed (truncated file?)");
                int line = p.currentTokenLocation().getLineNr();
                JsonNode n = JSON_STREAM.readTree(p);
                if (!(n instanceof ObjectNode o))
                    throw new DatasetException(file + ":" + line + ": expected an array of JSON objects, got " + kind(n));
                o.fieldNames().forEachRemaining(columns::add);
                rows.add(new Row(file, line, o));
            }
            if (p.nextToken() != null)
                throw new DatasetException(file + ":" + p.currentTokenLocation().getLineNr() + ": text after the end of the JSON array");
        } catch (JacksonException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new DatasetException(file + ":" + line + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new Table(file, Format.JSON_ARRAY, List.copyOf(columns), rows);
    }

    private static String kind(JsonNode n) {
        if (n == null || n.isMissingNode()) return "nothing";
        if (n.isArray()) return "an array";
        if (n.isTextual()) return "a string";
        if (n.isNumber()) return "a number";
        if (n.isBoolean()) return "a boolean";
        if (n.isNull()) return "null";
        return n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    private static Table delimited(String file, Format format, char sep, String text) {
        CsvMapper mapper = new CsvMapper();
        CsvSchema schema = CsvSchema.emptySchema().withColumnSeparator(sep).withQuoteChar('"').withoutEscapeChar();
        List<String> header = null;
        List<Row> rows = new ArrayList<>();
        String sepName = sep == '\t' ? "tab" : "comma";
        try (CsvParser p = mapper.getFactory().createParser(text)) {
            p.setSchema(schema);
            p.enable(CsvParser.Feature.WRAP_AS_ARRAY);
            p.enable(CsvParser.Feature.SKIP_EMPTY_LINES);
            // A trailing separator is an empty last field, not something to drop: "a,b," has three fields.
            p.disable(CsvParser.Feature.ALLOW_TRAILING_COMMA);
            p.disable(CsvParser.Feature.TRIM_SPACES);
            // WRAP_AS_ARRAY: one outer array, one inner array per record.
            if (p.nextToken() != JsonToken.START_ARRAY) throw new DatasetException(file + ": is empty (no header row)");
            List<String> fields = new ArrayList<>();
            int line = 0;
            while (true) {
                JsonToken t = p.nextToken();
                if (t == null || (t == JsonToken.END_ARRAY && p.getParsingContext().inRoot())) break;
                if (t == JsonToken.START_ARRAY) {
                    fields.clear();
                    line = 0;
                } else if (t == JsonToken.VALUE_STRING) {
                    if (fields.isEmpty()) line = p.currentTokenLocation().getLineNr();
                    fields.add(p.getText());
                } else if (t == JsonToken.END_ARRAY) {
                    if (header == null) {
                        header = header(file, fields, sepName);
                    } else {
                        if (fields.size() == 1 && fields.get(0).isBlank() && header.size() > 1) continue; // a blank line
                        if (fields.size() != header.size())
                            throw new DatasetException(file + ":" + line + ": row has " + fields.size() + " field" + (fields.size() == 1 ? "" : "s")
                                    + " but the header has " + header.size() + " (" + sepName + "-separated; quote fields that contain the separator)");
                        ObjectNode o = JSON.createObjectNode();
                        for (int i = 0; i < fields.size(); i++) o.put(header.get(i), fields.get(i));
                        rows.add(new Row(file, line, o));
                    }
                }
            }
        } catch (JacksonException e) {
            int l = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new DatasetException(file + ":" + l + ": malformed " + format + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (header == null) throw new DatasetException(file + ": is empty (no header row)");
        return new Table(file, format, header, rows);
    }

    private static List<String> header(String file, List<String> fields, String sepName) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < fields.size(); i++) {
            String h = fields.get(i);
            if (h.isBlank()) throw new DatasetException(file + ":1: header column " + (i + 1) + " has no name");
            Integer prev = seen.put(h, i);
            if (prev != null) throw new DatasetException(file + ":1: header names column \"" + h + "\" twice (columns " + (prev + 1) + " and " + (i + 1) + ")");
        }
        if (fields.size() == 1 && sepName.equals("comma") && fields.get(0).contains("\t"))
            throw new DatasetException(file + ":1: the header has one column with tabs in it; is this a TSV file? Name it .tsv");
        return List.copyOf(fields);
    }
}
