package jllm.formats.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import jllm.formats.FormatException;

/**
 * Reads a text file a user gave (datasets, training corpora) as strict UTF-8. Invalid bytes are an
 * error naming the file, the line and the byte offset, not U+FFFD silently trained on: a Latin-1 CSV
 * read leniently would teach a model replacement characters. A leading byte-order mark is dropped.
 */
public final class TextFile {
    /** Java strings top out near 2^31 chars; larger inputs are refused up front instead of failing with an OOM. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    private TextFile() { }

    public static String readUtf8(Path file) {
        long size;
        try {
            // Not only directories: /dev/zero or a FIFO would be read forever.
            InputFile.requireFile(file, null);
            size = Files.size(file);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + OutputFile.describe(e), e);
        }
        if (size > MAX_BYTES) throw new FormatException(file + ": " + size + " bytes is more than the " + MAX_BYTES + " a text input may have");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read: " + OutputFile.describe(e), e);
        }
        return decodeUtf8(file.toString(), bytes);
    }

    /** Strict UTF-8 decoding of {@code bytes}; {@code source} names them in errors. */
    public static String decodeUtf8(String source, byte[] bytes) {
        int start = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        CharBuffer out = CharBuffer.allocate(bytes.length - start);
        CoderResult r = dec.decode(in, out, true);
        if (r.isOverflow()) throw new IllegalStateException("UTF-8 decoded to more chars than bytes");
        if (r.isError()) throw invalid(source, bytes, in.position());
        r = dec.flush(out);
        if (r.isError()) throw invalid(source, bytes, in.position());
        out.flip();
        return out.toString();
    }

    private static FormatException invalid(String source, byte[] bytes, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset && i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        String hex = offset < bytes.length ? String.format("0x%02X", bytes[offset] & 0xFF) : "end of file";
        return new FormatException(source + ":" + line + ": not valid UTF-8 (byte " + hex + " at offset " + offset
                + ", column " + (offset - lineStart + 1) + "); save the file as UTF-8");
    }
}
