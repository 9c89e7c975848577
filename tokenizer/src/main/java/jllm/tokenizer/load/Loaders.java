package jllm.tokenizer.load;

import jllm.formats.FormatException;
import jllm.formats.gguf.GgufFile;
import jllm.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Detects the tokenizer format of a path and loads it. */
public final class Loaders {
    private Loaders() {}

    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("tokenizer.json"))) return HfJsonLoader.load(path.resolve("tokenizer.json"));
            if (Files.isRegularFile(path.resolve("tokenizer.model"))) return SentencePieceLoader.load(path.resolve("tokenizer.model"));
            throw new FormatException(path + ": no tokenizer.json or tokenizer.model in this directory");
        }
        jllm.formats.io.InputFile.requireFile(path, null);
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(16);
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read: " + e.getMessage());
        }
        if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            try (GgufFile f = GgufFile.open(path)) {
                return GgufLoader.load(f);
            }
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".json") || (head.length > 0 && head[0] == '{')) return HfJsonLoader.load(path);
        if (name.endsWith(".model") || (head.length > 0 && head[0] == 0x0A)) return SentencePieceLoader.load(path);
        if (name.endsWith(".bin")) return Llama2cLoader.load(path);
        throw new FormatException(path + ": unknown tokenizer format (expected tokenizer.json, .gguf, SentencePiece .model or llama2.c tokenizer.bin)");
    }
}
