package jllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jllm.formats.io.InputFile;
import jllm.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print the token ids of a text as a JSON array (one array per line with --jsonl).",
                "--tokenizer: a directory with tokenizer.json, a tokenizer.json, a .gguf, a SentencePiece .model or a llama2.c tokenizer.bin."})
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, description = "Tokenizer file or directory")
    Path tokenizer;

    @Option(names = "--add-special", description = "Add the special tokens that transformers' tokenizer(text) adds (BOS...)")
    boolean addSpecial;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", description = "The text to tokenize") String text;
        @Option(names = "--jsonl", description = "A file of {\"text\": ...} lines") Path jsonl;
    }

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = Tokenizer.load(tokenizer);
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16));
        if (input.text != null) {
            out.println(json(tok.encode(input.text, addSpecial)));
        } else {
            ObjectMapper om = new ObjectMapper();
            InputFile.lines(input.jsonl, "--jsonl", (no, line) -> {
                if (line.isBlank()) return;
                JsonNode n;
                try {
                    n = om.readTree(line);
                } catch (IOException e) {
                    throw new IllegalArgumentException(input.jsonl + ":" + no + ": not valid JSON");
                }
                if (n == null || !n.path("text").isTextual()) throw new IllegalArgumentException(input.jsonl + ":" + no + ": expected {\"text\": \"...\"}");
                out.println(json(tok.encode(n.get("text").asText(), addSpecial)));
            });
        }
        out.flush();
        return 0;
    }

    static String json(int[] ids) {
        StringBuilder b = new StringBuilder(ids.length * 6 + 2).append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) b.append(", ");
            b.append(ids[i]);
        }
        return b.append(']').toString();
    }
}
