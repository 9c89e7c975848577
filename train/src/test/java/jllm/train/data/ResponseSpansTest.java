package jllm.train.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import jllm.template.ChatTemplate;
import jllm.tokenizer.Tokenizer;
import jllm.train.Fixtures;
import org.junit.jupiter.api.Test;

/**
 * The two ways of finding responses agree on every real template where both apply: spans from
 * renderings of conversation prefixes, and spans from the template's discovered per-role structure.
 */
class ResponseSpansTest {
    @Test
    void prefixRenderingsAndChatShapeGiveTheSameSpans() throws IOException {
        Tokenizer tok = Fixtures.tokenizer("qwen3");
        List<String> checked = new ArrayList<>(), prefixFailed = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(Fixtures.root().resolve("chat-templates"))) {
            files = s.filter(p -> p.toString().endsWith(".jinja")).sorted().toList();
        }
        for (Path f : files) {
            String src = Files.readString(f);
            PromptFormat format = PromptFormat.chat(src, "2026-01-15T12:00:00", null, PromptFormat.Input.of(PromptFormat.Kind.MESSAGES));
            ExampleEncoder enc = new ExampleEncoder(format, tok);
            Map<String, Object> ctx = new LinkedHashMap<>(tok.specialTokens());
            ctx.put(ChatTemplate.NOW_KEY, "2026-01-15T12:00:00");
            ChatShape shape;
            try {
                ChatTemplate t = ChatTemplate.compile(src);
                shape = ChatShape.discover(t, ctx, tok.specialTokens().get("bos_token"));
                shape.verify(t, ctx);
            } catch (ChatShape.Unsupported e) {
                continue;
            }
            for (List<Message> conv : ChatShape.probeConversations()) {
                if (!conv.getLast().role().equals(Message.ASSISTANT)) continue;
                String full = enc.renderChat(conv, false);
                ChatShape.Rendered r = shape.render(conv, false);
                assertEquals(full, r.text(), f.getFileName().toString());
                List<int[]> byPrefix = enc.spansByPrefix(conv, full);
                if (byPrefix == null) { prefixFailed.add(f.getFileName().toString()); continue; }
                List<String> a = new ArrayList<>(), b = new ArrayList<>();
                for (int[] s : byPrefix) a.add(full.substring(s[0], s[1]));
                for (int i = 0; i < conv.size(); i++) if (conv.get(i).role().equals(Message.ASSISTANT)) b.add(full.substring(r.responseStart()[i], r.turnEnd()[i]));
                assertEquals(b, a, f.getFileName() + " " + conv.size() + " messages");
                checked.add(f.getFileName().toString());
            }
        }
        System.out.printf("response spans: %d conversations on %d templates agree; prefix method not applicable: %s%n",
                checked.size(), checked.stream().distinct().count(), prefixFailed.stream().distinct().toList());
        assertTrue(checked.stream().distinct().count() >= 30, checked.toString());
    }
}
