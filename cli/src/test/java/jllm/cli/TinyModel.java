package jllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model with a tokenizer for end-to-end command tests: the llama3 fixture's weights (random, 384
 * tokens) with a 384-token byte-level BPE tokenizer trained here on the start of tinyshakespeare.
 * The tokenizer is trained once per JVM; each test gets its own copy of the model.
 */
final class TinyModel {
    private static Path made;

    private TinyModel() { }

    static Path make(Path dir) throws IOException { return make(dir, "llama3"); }

    /**
     * The weights of the HF fixture {@code fixture} (all have 384 tokens) with the tokenizer trained here, in
     * {@code dir/model} (a neutral name: llama.cpp keys tokenizer quirks on a model name such as "phi3").
     */
    static Path make(Path dir, String fixture) throws IOException {
        Path tok = tokenizer();
        Path m = Files.createDirectories(dir.resolve("model"));
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors")) {
            Path from = CliTest.fixtures().resolve("hf").resolve(fixture).resolve(f);
            if (Files.exists(from)) Files.copy(from, m.resolve(f));
        }
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(tok.resolve(f), m.resolve(f));
        return m;
    }

    private static synchronized Path tokenizer() throws IOException {
        if (made == null) {
            Path base = Files.createTempDirectory("jllm-tiny-model");
            Path text = base.resolve("text.txt");
            Files.writeString(text, Files.readString(CliTest.fixtures().resolve("datasets/tinyshakespeare.txt")).substring(0, 60_000));
            CliTest.Run r = CliTest.run("tokenizer", "train", "--data", text.toString(), "--vocab", "384", "--out", base.resolve("tok").toString());
            if (r.code() != 0) throw new IllegalStateException(r.err());
            made = base.resolve("tok");
        }
        return made;
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
