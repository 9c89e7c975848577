package jllm.doctor.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufWriter;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.export.GgufVocabWriter;
import jllm.tokenizer.load.HfJsonLoader;

/**
 * Encodes a corpus of tricky strings with every tokenizer representation a model ships and reports
 * where they disagree. A release can carry the same vocabulary several times (tokenizer.json,
 * SentencePiece tokenizer.model, the GGUF vocabulary a converter writes, settings in
 * tokenizer_config.json that transformers applies on top); runtimes pick different ones, and when
 * they disagree the model sees token sequences it was never trained on.
 *
 * <p>The first representation is the reference (what transformers' {@code tokenizer(text)} gives).
 * Each is compared on {@code encode(text, add_special_tokens=True)}; when representations wrap text
 * in different special tokens (one adds BOS, another not), that is reported once and the wrappers are
 * set aside so the text's own tokens are still compared.
 */
public final class TokenizerAudit {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Representation(String name, Tokenizer tokenizer) {}

    /** One string the two encode differently (or where one fails: {@code error}). */
    public record Disagreement(String text, int[] reference, int[] other, String error) {}

    public record Comparison(String reference, String other, int compared, String wrapperNote, List<Disagreement> disagreements) {}

    private TokenizerAudit() {}

    /**
     * The representations of {@code model} (an HF directory or a GGUF) plus {@code extra} tokenizer
     * paths; representations that fail to load are reported through {@code skipped}.
     */
    public static List<Representation> representations(Path model, List<Path> extra, Consumer<String> skipped) {
        List<Representation> out = new ArrayList<>();
        if (Files.isDirectory(model)) {
            Path tj = model.resolve("tokenizer.json"), spm = model.resolve("tokenizer.model"), cfg = model.resolve("tokenizer_config.json");
            if (Files.isRegularFile(tj)) {
                add(out, "transformers (tokenizer.json + tokenizer_config.json)", () -> Tokenizer.load(tj), skipped);
                JsonNode config = Files.isRegularFile(cfg) ? readJson(cfg) : null;
                add(out, "tokenizers library (tokenizer.json alone)", () -> HfJsonLoader.fromJson(tj + " (alone)", readJson(tj), null), skipped);
                if (config != null && config.has("add_prefix_space") && !config.get("add_prefix_space").isNull()) {
                    boolean aps = config.get("add_prefix_space").asBoolean();
                    add(out, "tokenizer.json rebuilt with tokenizer_config add_prefix_space=" + aps,
                            () -> HfJsonLoader.fromJson(tj + " (add_prefix_space=" + aps + ")", withPrefixSpace(readJson(tj), aps), config), skipped);
                }
            }
            if (Files.isRegularFile(spm)) add(out, "SentencePiece (tokenizer.model)", () -> Tokenizer.load(spm), skipped);
            if (Files.isRegularFile(tj) || Files.isRegularFile(spm)) add(out, "GGUF vocabulary (as jllm convert writes it)", () -> ggufOf(model), skipped);
        } else if (GgufFile.isGguf(model)) {
            add(out, "GGUF vocabulary (" + model.getFileName() + ")", () -> Tokenizer.load(model), skipped);
        } else {
            add(out, model.getFileName().toString(), () -> Tokenizer.load(model), skipped);
        }
        for (Path p : extra) {
            if (Files.isDirectory(p) || !GgufFile.isGguf(p)) add(out, p.toString(), () -> Tokenizer.load(p), skipped);
            else add(out, "GGUF vocabulary (" + p.getFileName() + ")", () -> Tokenizer.load(p), skipped);
        }
        return out;
    }

    private interface Loader { Tokenizer load(); }

    private static void add(List<Representation> out, String name, Loader l, Consumer<String> skipped) {
        try {
            out.add(new Representation(name, l.load()));
        } catch (RuntimeException e) {
            skipped.accept(name + ": " + e.getMessage());
        }
    }

    private static JsonNode readJson(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new FormatException(p + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /** tokenizer.json with the leading-space setting transformers applies when tokenizer_config.json names one. */
    static JsonNode withPrefixSpace(JsonNode root, boolean aps) {
        JsonNode copy = root.deepCopy();
        visit(copy.get("pre_tokenizer"), aps);
        JsonNode n = copy.get("normalizer");
        if (!aps && n instanceof ObjectNode on) {
            if ("Prepend".equals(on.path("type").asText())) ((ObjectNode) copy).putNull("normalizer");
            else if (on.get("normalizers") instanceof com.fasterxml.jackson.databind.node.ArrayNode arr)
                for (int i = arr.size() - 1; i >= 0; i--) if ("Prepend".equals(arr.get(i).path("type").asText())) arr.remove(i);
        }
        return copy;
    }

    private static void visit(JsonNode n, boolean aps) {
        if (!(n instanceof ObjectNode o)) return;
        switch (o.path("type").asText()) {
            case "Metaspace" -> { o.put("prepend_scheme", aps ? "first" : "never"); o.put("add_prefix_space", aps); }
            case "ByteLevel" -> o.put("add_prefix_space", aps);
            default -> { }
        }
        if (o.get("pretokenizers") != null) o.get("pretokenizers").forEach(c -> visit(c, aps));
    }

    /** The vocabulary `jllm convert` would embed in a GGUF, read back through the GGUF tokenizer loader. */
    private static Tokenizer ggufOf(Path dir) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("jllm-vocab-", ".gguf");
            GgufWriter w = new GgufWriter();
            w.string("general.architecture", "llama");
            GgufVocabWriter.addTo(dir, w);
            w.write(tmp, true, java.util.List.of());   // our own empty temporary file
            return Tokenizer.load(tmp);
        } catch (IOException e) {
            throw new FormatException("cannot write a temporary GGUF vocabulary: " + e.getMessage(), e);
        } finally {
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    // ---- corpus ----

    /** Tricky strings, plus each tokenizer's own special tokens in and around text, plus seeded random strings. */
    public static List<String> corpus(List<Tokenizer> toks) {
        LinkedHashSet<String> c = new LinkedHashSet<>(FIXED);
        for (Tokenizer t : toks) {
            int n = 0;
            for (AddedToken a : t.addedTokens()) {
                if (n++ >= 40) break;
                String s = a.content();
                c.add(s);
                c.add(s + "hello");
                c.add("Hi " + s + " there");
                c.add(s + "\n" + s);
            }
        }
        SplittableRandom r = new SplittableRandom(20260115);
        String[] pieces = {"a", "Z", " ", "  ", "\n", "\t", "7", "42", ".", ",", "'s", "é", "e\u0301", "日", "本", "😀", "👍🏽", "\u200D", "ß", "İ",
                "م", "ש", "<", ">", "|", "▁", "_", "Ġ", "\u00A0", "�"};
        for (int i = 0; i < 40; i++) {
            StringBuilder b = new StringBuilder();
            int len = 1 + r.nextInt(24);
            for (int j = 0; j < len; j++) b.append(pieces[r.nextInt(pieces.length)]);
            c.add(b.toString());
        }
        return new ArrayList<>(c);
    }

    static final List<String> FIXED = List.of(
            // whitespace
            " ", "  ", "   ", "\t", "\n", "\n\n\n", " \n ", "\r\n", "   leading spaces", "trailing spaces   ", "a  b   c    d", "tab\tseparated\tvalues",
            "line one\nline two\n\nline four", "Hello world", " Hello world", "Hello  world", "hello\u3000world",
            // digits and numbers
            "1234567890", "12345678901234567890", "3.14159265", "1,000,000.00", "-42", "2026-01-15T12:00:00", "0x1F 0b1010", "v1.2.3-rc4", "10^6 = 1e6",
            // emoji
            "😀", "👨‍👩‍👧‍👦", "🇺🇸🇯🇵🇩🇪", "☀️ sun", "☀", "❤️", "🤖🧠✨", "👍🏽👍🏿",
            // CJK and other scripts
            "日本語のテキストです。", "中文测试：你好，世界！", "한국어 문장입니다", "ภาษาไทย", "Ελληνικά", "Русский текст", "हिन्दी",
            // right-to-left
            "مرحبا بالعالم", "שלום עולם", "abc مرحبا 123 שלום", "\u202Eevil\u202C",
            // combining marks and normalisation
            "e\u0301", "café vs cafe\u0301", "Ω\u0308", "ǅ", "ﬁne ligature", "Ｆｕｌｌｗｉｄｔｈ", "①②③", "Straße", "İstanbul ıi", "naïve coöperate", "Z\u0351\u0352\u0353algo",
            // special-token look-alikes
            "<s>", "</s>", "<unk>", "<pad>", "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>", "<|eot_id|>", "<bos>", "<eos>",
            "<start_of_turn>user", "< s >", "<<s>>", "<s >", "[INST] hi [/INST]", "<|", "|>", "<0x0A>", "▁", "▁▁hello", "Ġhello",
            // invisible and control characters
            "a\u200Bb", "a\u200Db", "\uFEFFbom", "nb\u00A0sp", "soft\u00ADhyphen", "\u0000", "\u0007bell", "\u001B[31mred\u001B[0m", "\u007F",
            // invalid UTF-16 (lone surrogates, which a Python str can hold)
            "\uD800", "a\uDC00b", "\uD83D",
            // code
            "def f(x):\n    return x**2", "    indented", "if (a<=b && c!=d) { return; }", "<div class=\"x\">&amp;</div>", "SELECT * FROM t;",
            // long runs
            "a".repeat(300), "ab".repeat(100), " ".repeat(40) + "x", "hello ".repeat(40), "!!!???...", "—–-‒", "\"quotes\" 'single' «guillemets»");

    // ---- comparison ----

    public static List<Comparison> compare(List<Representation> reps, List<String> corpus) {
        List<Comparison> out = new ArrayList<>();
        if (reps.size() < 2) return out;
        Representation ref = reps.getFirst();
        for (Representation r : reps.subList(1, reps.size())) out.add(compare(ref, r, corpus));
        return out;
    }

    static Comparison compare(Representation a, Representation b, List<String> corpus) {
        int[][] wa = wrapper(a.tokenizer()), wb = wrapper(b.tokenizer());
        String note = null;
        if (!Arrays.equals(wa[0], wb[0]) || !Arrays.equals(wa[1], wb[1]))
            note = "special tokens around the text differ: " + a.name() + " adds " + Arrays.toString(wa[0]) + " ... " + Arrays.toString(wa[1])
                    + ", " + b.name() + " adds " + Arrays.toString(wb[0]) + " ... " + Arrays.toString(wb[1]);
        List<Disagreement> diffs = new ArrayList<>();
        for (String text : corpus) {
            int[] x = null, y = null;
            String err = null;
            try {
                x = strip(a.tokenizer().encode(text, true), wa);
            } catch (RuntimeException e) {
                err = a.name() + " fails: " + e.getMessage();
            }
            try {
                y = strip(b.tokenizer().encode(text, true), wb);
            } catch (RuntimeException e) {
                err = (err == null ? "" : err + "; ") + b.name() + " fails: " + e.getMessage();
            }
            if (err != null ? (x != null || y != null) : !Arrays.equals(x, y)) diffs.add(new Disagreement(text, x, y, err));
        }
        return new Comparison(a.name(), b.name(), corpus.size(), note, diffs);
    }

    /** The ids a tokenizer puts before and after any text: what it adds to the empty string, split around a probe. */
    static int[][] wrapper(Tokenizer t) {
        int[] withSpecial = t.encode("x", true), plain = t.encode("x", false);
        int at = indexOf(withSpecial, plain);
        if (at < 0) return new int[][] {new int[0], new int[0]};
        return new int[][] {Arrays.copyOf(withSpecial, at), Arrays.copyOfRange(withSpecial, at + plain.length, withSpecial.length)};
    }

    private static int indexOf(int[] hay, int[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static int[] strip(int[] ids, int[][] w) {
        int s = 0, e = ids.length;
        if (ids.length >= w[0].length && Arrays.equals(Arrays.copyOf(ids, w[0].length), w[0])) s = w[0].length;
        if (e - s >= w[1].length && Arrays.equals(Arrays.copyOfRange(ids, e - w[1].length, e), w[1])) e -= w[1].length;
        return Arrays.copyOfRange(ids, s, e);
    }

    /** A string with invisible and non-ASCII-control characters escaped, for printing an example. */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    int type = Character.getType(cp);
                    if (cp < 0x20 || cp == 0x7F || type == Character.FORMAT || type == Character.SURROGATE || type == Character.CONTROL
                            || type == Character.SPACE_SEPARATOR && cp != ' ' || type == Character.NON_SPACING_MARK)
                        b.append(cp > 0xFFFF ? String.format("\\U%08X", cp) : String.format("\\u%04X", cp));
                    else b.appendCodePoint(cp);
                }
            }
        });
        if (b.length() > 122) { b.setLength(118); b.append("..."); }
        return b.append('"').toString();
    }

    /** Ids with their token strings: {@code [9906 'Hello', 1917 'Ġworld']}. */
    public static String pieces(Tokenizer t, int[] ids) {
        if (ids == null) return "(failed)";
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < ids.length && i < 24; i++) {
            if (i > 0) b.append(", ");
            String s = ids[i] >= 0 && ids[i] < t.vocabSize() ? t.tokenText(ids[i]) : null;
            b.append(ids[i]).append(' ').append(s == null ? "?" : escape(s));
        }
        if (ids.length > 24) b.append(", ... ").append(ids.length).append(" ids");
        return b.append(']').toString();
    }
}
