package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.train.TokenizerTrainer;
import jllm.train.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Label masks on the real tokenizers and chat templates of the fixtures. */
class ExampleEncoderTest {
    static final Row ROW = new Row("d.jsonl", 1, new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());

    static List<Message> conv(String... roleContent) { return RowFormatterTest.conv(roleContent); }

    /** The decoded text of each run of trained tokens. */
    static List<String> trainedRuns(Tokenizer tok, ExampleEncoder.Encoded e) {
        List<String> runs = new ArrayList<>();
        int[] l = e.labels();
        for (int i = 0; i < l.length; ) {
            if (l[i] == ExampleEncoder.IGNORE) { i++; continue; }
            int j = i;
            while (j < l.length && l[j] != ExampleEncoder.IGNORE) j++;
            runs.add(tok.decode(Arrays.copyOfRange(e.ids(), i, j)));
            i = j;
        }
        return runs;
    }

    static ExampleEncoder chatEncoder(String name) {
        Tokenizer tok = Fixtures.tokenizer(name);
        PromptFormat f = PromptFormat.chat(tok.chatTemplate().orElseThrow(), "2026-01-15T12:00:00", null, PromptFormat.Input.of(PromptFormat.Kind.MESSAGES));
        return new ExampleEncoder(f, tok);
    }

    static Stream<Arguments> responses() {
        // llama3's fixture template is the original Llama 3 one: it ignores add_generation_prompt and always ends with the assistant header.
        return Stream.of(Arguments.of("llama3", "Hello there<|eot_id|>", "Goodbye<|eot_id|>"),
                Arguments.of("gemma3", "Hello there<end_of_turn>\n", "Goodbye<end_of_turn>\n"),
                Arguments.of("qwen3", "Hello there<|im_end|>\n", "<think>\n\n</think>\n\nGoodbye<|im_end|>\n"));
    }

    @ParameterizedTest
    @MethodSource("responses")
    void onlyResponsesAreTrained(String name, String first, String second) {
        Tokenizer tok = Fixtures.tokenizer(name);
        ExampleEncoder enc = chatEncoder(name);
        for (boolean system : new boolean[] {false, true}) {
            List<Message> c = system ? conv("system", "Be brief.", "user", "Hi", "assistant", "Hello there", "user", "Bye?", "assistant", "Goodbye")
                    : conv("user", "Hi", "assistant", "Hello there", "user", "Bye?", "assistant", "Goodbye");
            ExampleEncoder.Encoded e = enc.encode(Example.chat(ROW, c), false);
            assertEquals(List.of(first, second), trainedRuns(tok, e), name + (system ? " with system" : ""));
            assertFalse(e.unstableBoundary());
            ExampleEncoder.Encoded all = enc.encode(Example.chat(ROW, c), true);
            assertEquals(all.length(), all.trained(), "--train-on-inputs trains every token");
        }
    }

    @Test
    void promptIdsAreTheTrainingPrefix() {
        for (String name : List.of("llama3", "gemma3", "qwen3")) {
            ExampleEncoder enc = chatEncoder(name);
            List<Message> c = conv("user", "What is 2+2?", "assistant", "4");
            ExampleEncoder.Encoded e = enc.encode(Example.chat(ROW, c), false);
            int[] prompt = enc.promptIds(c.subList(0, 1));
            assertArrayEquals(prompt, Arrays.copyOf(e.ids(), prompt.length), name);
            assertEquals(ExampleEncoder.IGNORE, e.labels()[prompt.length - 1]);
            assertNotEquals(ExampleEncoder.IGNORE, e.labels()[prompt.length], name + ": the first response token is trained");
        }
    }

    @Test
    void templateWritingBosIsNotDoubled() {
        for (String name : List.of("llama3", "gemma3")) {
            Tokenizer tok = Fixtures.tokenizer(name);
            if (name.equals("gemma3")) assertTrue(ExampleEncoder.addsBos(tok), name + " adds BOS itself");
            ExampleEncoder.Encoded e = chatEncoder(name).encode(Example.chat(ROW, conv("user", "Hi", "assistant", "Yo")), false);
            int bos = tok.bosId().getAsInt();
            assertEquals(bos, e.ids()[0], name);
            assertNotEquals(bos, e.ids()[1], name + ": one BOS, not two");
        }
    }

    @Test
    void plainFormatWithATokenizerWithoutChatTemplate() {
        Tokenizer tok = TokenizerTrainer.train("Passenger: class 3, male. Survived: 0\n".repeat(20),
                TokenizerTrainer.Options.of(TokenizerTrainer.Kind.BYTE_LEVEL, 300), null).load();
        PromptFormat f = TrainingData.formatFor(tok, null, null, null, PromptFormat.Input.of(PromptFormat.Kind.PROMPT_COMPLETION));
        assertEquals(PromptFormat.Style.PLAIN, f.style());
        assertTrue(f.bos());
        assertEquals("<|eos|>", f.eos());
        ExampleEncoder enc = new ExampleEncoder(f, tok);
        ExampleEncoder.Encoded e = enc.encode(Example.chat(ROW, conv("user", "Passenger: class 3, male. Survived:", "assistant", "0")), false);
        assertEquals(List.of(" 0<|eos|>"), trainedRuns(tok, e));
        assertEquals(tok.bosId().getAsInt(), e.ids()[0]);
        int[] prompt = enc.promptIds(conv("user", "Passenger: class 3, male. Survived:"));
        assertArrayEquals(prompt, Arrays.copyOf(e.ids(), prompt.length));
        assertEquals(prompt.length, e.length() - 3, "response ' 0' is two tokens, then eos");
        // No separator when the prompt already ends with whitespace.
        ExampleEncoder.Encoded nl = enc.encode(Example.chat(ROW, conv("user", "Q:\n", "assistant", "0")), false);
        assertEquals(List.of("0<|eos|>"), trainedRuns(tok, nl));
        String m = assertThrows(DatasetException.class,
                () -> enc.encode(Example.chat(ROW, conv("user", "a", "assistant", "b", "user", "c", "assistant", "d")), false)).getMessage();
        assertTrue(m.contains("multi-turn conversations need a chat template"), m);
    }

    @Test
    void textExamplesTrainEverywhereWithBosAndEos() {
        Tokenizer tok = Fixtures.tokenizer("gemma3");
        ExampleEncoder enc = chatEncoder("gemma3");
        int bos = tok.bosId().getAsInt();
        ExampleEncoder.Encoded e = enc.encode(Example.text(ROW, "To be, or not to be"), false);
        assertEquals(bos, e.ids()[0]);
        assertEquals(tok.eosId().getAsInt(), e.ids()[e.length() - 1]);
        assertEquals(e.length(), e.trained());
        ExampleEncoder.Encoded withBos = enc.encode(Example.text(ROW, "<bos>To be"), false);
        assertEquals(bos, withBos.ids()[0]);
        assertNotEquals(bos, withBos.ids()[1], "text that starts with BOS gets no second one");
    }

    @Test
    void templatesThatCannotBeSplitAreRefusedClearly() {
        Tokenizer tok = Fixtures.tokenizer("qwen3");
        // Writes only user turns: no span can be found for the response.
        String t = "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}";
        ExampleEncoder enc = new ExampleEncoder(PromptFormat.chat(t, null, null, PromptFormat.Input.of(PromptFormat.Kind.MESSAGES)), tok);
        String m = assertThrows(DatasetException.class, () -> enc.encode(Example.chat(ROW, conv("user", "a", "assistant", "b")), false)).getMessage();
        assertTrue(m.startsWith("d.jsonl:1: cannot tell where the responses are"), m);
    }

    @Test
    void shapeFallbackWhenPrefixRenderingsDoNotLineUp() {
        Tokenizer tok = Fixtures.tokenizer("qwen3");
        // The generation prompt ("<assistant>\n") is not how history turns start ("<assistant>"), so P_i is
        // not a prefix of F; the template still has the per-role structure, which gives the spans.
        String t = "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n{% endfor %}"
                + "{% if add_generation_prompt %}<assistant>\n{% endif %}";
        ExampleEncoder enc = new ExampleEncoder(PromptFormat.chat(t, null, null, PromptFormat.Input.of(PromptFormat.Kind.MESSAGES)), tok);
        ExampleEncoder.Encoded e = enc.encode(Example.chat(ROW, conv("user", " a", "assistant", " b", "user", " c", "assistant", " d")), false);
        assertEquals(List.of(" b</assistant>\n", " d</assistant>\n"), trainedRuns(tok, e));
    }
}
