package jllm.formats.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import jllm.formats.FormatException;

/**
 * Opening the files users hand to jllm (templates, JSON configs and contexts, tokenizers): every
 * failure is one line naming the file (and the flag it came from) and what is wrong with it, down to
 * the line and column for invalid UTF-8 ({@link TextFile}) and JSON syntax errors; never a bare
 * "Is a directory" or a parser's internals.
 */
public final class InputFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private InputFile() { }

    /**
     * Checks that {@code p} is a readable regular file (symlinks followed); {@code what} says where it
     * came from ("--context", "template") and starts the message.
     */
    public static Path requireFile(Path p, String what) {
        String w = prefix(what);
        if (!Files.exists(p)) throw new FormatException(w + p + ": no such file");
        if (Files.isDirectory(p)) throw new FormatException(w + p + ": is a directory, expected a file");
        if (!Files.isRegularFile(p)) throw new FormatException(w + p + ": is not a regular file (a device, FIFO or socket)");
        if (!Files.isReadable(p)) throw new FormatException(w + p + ": permission denied");
        return p;
    }

    /** The file's bytes (after {@link #requireFile}); I/O errors become one line naming the file. */
    public static byte[] bytes(Path p, String what) {
        requireFile(p, what);
        try {
            if (Files.size(p) > TextFile.MAX_BYTES) throw new FormatException(prefix(what) + p + ": too large (" + Files.size(p) + " bytes)");
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new FormatException(prefix(what) + p + ": no such file");
        } catch (AccessDeniedException e) {
            throw new FormatException(prefix(what) + p + ": permission denied");
        } catch (IOException e) {
            throw new FormatException(prefix(what) + p + ": cannot read: " + OutputFile.describe(e));
        }
    }

    /** The whole file as strict UTF-8 text; invalid UTF-8 is an error naming the line and column. */
    public static String text(Path p, String what) {
        return TextFile.decodeUtf8(prefix(what) + p, bytes(p, what));
    }

    /**
     * Checks that {@code b} is UTF-8 without building a string (a 30 MB tokenizer.json stays bytes);
     * the error names the line, as {@link TextFile} does. JSON parsers do not check every byte: Jackson
     * lets invalid UTF-8 through in object keys, which are a tokenizer's vocabulary.
     */
    public static byte[] requireUtf8(byte[] b, String source) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult r = d.decode(in, out, true);
            if (r.isError()) TextFile.decodeUtf8(source, java.util.Arrays.copyOf(b, in.position() + r.length()));
            if (r.isUnderflow()) break;
            out.clear();
        }
        out.clear();
        if (d.flush(out).isError()) TextFile.decodeUtf8(source, b);
        return b;
    }

    /** Receives one line (without its line break) and its 1-based number. */
    @FunctionalInterface
    public interface LineConsumer {
        void line(int number, String text) throws IOException;
    }

    /**
     * Streams a text file line by line as strict UTF-8 (a JSONL file may be larger than memory); invalid
     * UTF-8 is an error naming the line it is on. A buffered Reader cannot do that: it decodes ahead,
     * so its error comes while an earlier line is being read.
     */
    public static void lines(Path p, String what, LineConsumer consumer) {
        requireFile(p, what);
        String src = prefix(what) + p;
        try (var in = new java.io.BufferedInputStream(Files.newInputStream(p), 1 << 16)) {
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            int number = 0;
            for (int b = in.read(); ; b = in.read()) {
                if (b == '\n' || b < 0) {
                    if (b < 0 && line.size() == 0) return;
                    number++;
                    byte[] bytes = line.toByteArray();
                    int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    String text;
                    try {
                        text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, 0, n)).toString();
                    } catch (java.nio.charset.CharacterCodingException e) {
                        throw new FormatException(src + ":" + number + ": not valid UTF-8; save the file as UTF-8");
                    }
                    consumer.line(number, text);
                    if (b < 0) return;
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        } catch (IOException e) {
            throw new FormatException(src + ": cannot read: " + OutputFile.describe(e));
        }
    }

    /** Parses a JSON file; syntax errors say where, in words, without the parser's internals. */
    public static JsonNode json(Path p, String what) {
        byte[] b = requireUtf8(bytes(p, what), prefix(what) + p);
        try {
            JsonNode n = JSON.readTree(b);
            if (n == null || n.isMissingNode()) throw new FormatException(prefix(what) + p + ": empty file, expected JSON");
            return n;
        } catch (JacksonException e) {
            throw new FormatException(prefix(what) + p + ": " + jsonError(e));
        } catch (IOException e) {
            throw new FormatException(prefix(what) + p + ": cannot read: " + OutputFile.describe(e));
        }
    }

    /** "not valid JSON at line L, column C: reason" from a Jackson error (no source dump, no class names). */
    public static String jsonError(JacksonException e) {
        String m = e.getOriginalMessage();
        if (m == null) m = "";
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        // Jackson appends hints meant for Java programmers; they only confuse a user reading a file.
        int hint = m.indexOf(" (for Object starting at");
        if (hint < 0) hint = m.indexOf(" (for root starting at");
        if (hint >= 0) m = m.substring(0, hint);
        m = m.replaceAll("\\s*\\(code \\d+\\)", "").replaceAll("\\s*\\(CTRL-CHAR[^)]*\\)", "")
                .replaceAll(", from `[^`]*`", "").replace("Unexpected end-of-input", "unexpected end of file");
        JsonLocation loc = e.getLocation();
        String where = loc != null && loc.getLineNr() > 0 ? " at line " + loc.getLineNr() + ", column " + loc.getColumnNr() : "";
        return "not valid JSON" + where + (m.isBlank() ? "" : ": " + m.strip());
    }

    private static String prefix(String what) {
        return what == null || what.isEmpty() ? "" : what + " ";
    }
}
