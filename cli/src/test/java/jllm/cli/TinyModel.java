package jllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model with a tokenizer for end-to-end command tests: the llama3 fixture's weights (random, 384
 * tokens) with a 384-token byte-level BPE tokenizer trained here on the start of tinyshakespeare.
 * Made once per JVM, copied into each test's directory.
 */
final class TinyModel {
    private static Path made;

    private TinyModel() { }

    static synchronized Path make(Path dir) throws IOException {
        if (made == null) {
            Path base = Files.createTempDirectory("jllm-tiny-model");
            Path text = base.resolve("text.txt");
            Files.writeString(text, Files.readString(CliTest.fixtures().resolve("datasets/tinyshakespeare.txt")).substring(0, 60_000));
            CliTest.Run r = CliTest.run("tokenizer", "train", "--data", text.toString(), "--vocab", "384", "--out", base.resolve("tok").toString());
            if (r.code() != 0) throw new IllegalStateException(r.err());
            Path m = base.resolve("model");
            Files.createDirectory(m);
            for (String f : List.of("config.json", "generation_config.json", "model.safetensors"))
                Files.copy(CliTest.fixtures().resolve("hf/llama3").resolve(f), m.resolve(f));
            for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(base.resolve("tok").resolve(f), m.resolve(f));
            made = m;
        }
        Path copy = dir.resolve("model");
        Files.createDirectories(copy);
        try (var s = Files.list(made)) {
            for (Path f : s.toList()) Files.copy(f, copy.resolve(f.getFileName()));
        }
        return copy;
    }

    /** The first {@code n} rows of the Titanic table. */
    static Path titanic(Path dir, int n) throws IOException {
        List<String> lines = Files.readAllLines(CliTest.fixtures().resolve("datasets/titanic-train.csv"));
        Path p = dir.resolve("titanic-" + n + ".csv");
        Files.write(p, lines.subList(0, n + 1));
        return p;
    }

    static final String TEMPLATE = "Passenger: class {Pclass}, {Sex}[[, age {Age}]], {SibSp} siblings or spouses and {Parch} parents or children aboard"
            + "[[, fare {Fare}]][[, embarked at {Embarked}]]. Survived:";
}
