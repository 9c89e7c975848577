package jllm.cli;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import jllm.model.gguf.GgufConverter.FileType;
import jllm.tensor.GgmlType;
import picocli.CommandLine;

/**
 * The one spelling of weight types on the command line, shared by {@code bench}, {@code convert},
 * {@code quantize} and {@code init}: lower case as llama.cpp users write them (upper case accepted),
 * with llama.cpp's aliases {@code q4_k} = {@code q4_k_m} and {@code q5_k} = {@code q5_k_m}.
 */
final class WeightTypes {
    private WeightTypes() { }

    private static final Map<String, FileType> NAMES = new LinkedHashMap<>();

    static {
        for (FileType t : FileType.values()) NAMES.put(t.name().toLowerCase(Locale.ROOT), t);
        NAMES.put("q4_k", FileType.Q4_K_M);
        NAMES.put("q5_k", FileType.Q5_K_M);
    }

    /** For help texts. */
    static final String LIST = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m (= q4_k), q5_k_m (= q5_k), q6_k";

    static FileType parse(String s) {
        FileType t = s == null ? null : NAMES.get(s.strip().toLowerCase(Locale.ROOT));
        if (t == null) throw new IllegalArgumentException("unknown weight type '" + s + "' (one of: " + LIST + ")");
        return t;
    }

    /** The name users type for a file type. */
    static String name(FileType t) { return t.name().toLowerCase(Locale.ROOT); }

    /** The kernel a type name stands for in {@code bench kernels}: a mix's main type (q4_k_m: q4_k). */
    static GgmlType kernel(String s) { return parse(s).base; }

    /** picocli converter: a bad value is reported as "Invalid value for option '--type': ...". */
    static final class Converter implements CommandLine.ITypeConverter<FileType> {
        @Override
        public FileType convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
