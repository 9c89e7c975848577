package jllm.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.template.ChatTemplate;
import jllm.template.TemplateException;
import jllm.tokenizer.Tokenizer;

/**
 * Tokenizes examples the way the recorded {@link PromptFormat} says, with the label mask that keeps
 * the loss on the responses.
 *
 * <h2>Which tokens are trained</h2>
 * By default only the responses: each assistant turn's content and the end-of-turn text the template
 * writes after it (so the model learns to stop). Spans are found in characters, then mapped to
 * tokens:
 * <ol>
 *   <li>Render the whole conversation F, and for each assistant turn i the conversation before it with
 *       the generation prompt (P_i) and up to it (E_i). When F starts with P_i the response starts at
 *       |P_i|, and runs over the content (found in F, trimmed if the template trims it) and the text E_i
 *       writes after the content when F has it there too (the end-of-turn marker). Templates that
 *       ignore add_generation_prompt end every E_i with the next assistant header; for them, and when the
 *       suffix is not in F, the response ends after the content and the special token that follows it
 *       (e.g. {@code <|eot_id|>}), so the model still learns to stop.</li>
 *   <li>Otherwise, if the template has a {@link ChatShape} and rendering from it gives F, the spans come
 *       from the shape (this is the "marker search" of responses-only training, made exact).</li>
 *   <li>A character boundary b becomes a token boundary by tokenizing F[0, b): when those ids are a
 *       prefix of F's ids the boundary is stable; when a token straddles b it is kept with the response
 *       (its start is trained, its end is not) and the example is counted as unstable.</li>
 * </ol>
 * Plain format: {@code [bos] prompt sep response eos}, the response part (separator included) and eos
 * trained; whole-text examples are trained everywhere.
 *
 * <h2>BOS</h2>
 * A rendered chat is tokenized without adding special tokens, like {@code apply_chat_template}: the
 * template writes {@code bos_token} itself when the model wants one, and adding another would double it.
 * Plain text gets the tokenizer's BOS only when the tokenizer adds one and the text does not already
 * start with it.
 */
public final class ExampleEncoder {
    public static final int IGNORE = -100;

    private final PromptFormat format;
    private final Tokenizer tok;
    private final ChatTemplate template;
    private final Map<String, Object> context;
    private final Integer bosId;
    private final int eosId;
    private final String bosText;
    private final List<jllm.tokenizer.AddedToken> specials = new ArrayList<>();
    private ChatShape shape;
    private boolean shapeTried;

    /** A tokenized example: ids and labels (the id where trained, {@link #IGNORE} elsewhere). */
    public record Encoded(Row row, int[] ids, int[] labels, boolean unstableBoundary) {
        public int trained() {
            int n = 0;
            for (int l : labels) if (l != IGNORE) n++;
            return n;
        }

        public int length() { return ids.length; }
    }

    public ExampleEncoder(PromptFormat format, Tokenizer tok) {
        this.format = format;
        this.tok = tok;
        this.bosText = tok.specialTokens().get("bos_token");
        this.bosId = addsBos(tok) ? tok.bosId().getAsInt() : null;
        for (jllm.tokenizer.AddedToken t : tok.addedTokens()) if (t.special()) specials.add(t);
        if (format.style() == PromptFormat.Style.CHAT_TEMPLATE) {
            try {
                this.template = ChatTemplate.compile(format.chatTemplate());
            } catch (TemplateException e) {
                throw new DatasetException("the chat template does not compile: " + e.getMessage());
            }
            this.context = new LinkedHashMap<>(tok.specialTokens());
            if (format.now() != null) context.put(ChatTemplate.NOW_KEY, format.now());
            this.eosId = -1;
        } else {
            this.template = null;
            this.context = null;
            var e = tok.tokenId(format.eos());
            if (e.isEmpty()) throw new DatasetException("the plain prompt format ends examples with " + format.eos() + ", which is not a token of " + tok.source());
            this.eosId = e.getAsInt();
        }
    }

    /** Whether {@code tokenizer(text)} puts a BOS in front (compared, not read from a flag: formats differ in where they say it). */
    public static boolean addsBos(Tokenizer tok) {
        if (tok.bosId().isEmpty()) return false;
        int[] with = tok.encode("a", true), without = tok.encode("a", false);
        return with.length > without.length && with[0] == tok.bosId().getAsInt();
    }

    /** The token ids of a prompt for generation: the conversation up to the response, as training saw it. */
    public int[] promptIds(List<Message> prompt) {
        if (format.style() == PromptFormat.Style.CHAT_TEMPLATE) return tok.encode(renderChat(prompt, true), false);
        return withBos(plainPrompt(prompt, null), tok.encode(plainPrompt(prompt, null), false));
    }

    /** The prompt as text (for showing; tokenization is {@link #promptIds}). */
    public String promptText(List<Message> prompt) {
        return format.style() == PromptFormat.Style.CHAT_TEMPLATE ? renderChat(prompt, true) : plainPrompt(prompt, null);
    }

    public Encoded encode(Example ex, boolean trainOnInputs) {
        if (ex.isText()) return text(ex);
        return format.style() == PromptFormat.Style.CHAT_TEMPLATE ? chat(ex, trainOnInputs) : plain(ex, trainOnInputs);
    }

    private Encoded text(Example ex) {
        int[] body = tok.encode(ex.text(), false);
        int[] ids = withBos(ex.text(), body);
        int eos = eosForText();
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = eos;
        return new Encoded(ex.row(), ids, ids.clone(), false);
    }

    private int eosForText() {
        if (eosId >= 0) return eosId;
        if (tok.eosId().isEmpty()) throw new DatasetException(tok.source() + ": the tokenizer has no eos token to end text examples with");
        return tok.eosId().getAsInt();
    }

    private int[] withBos(String text, int[] ids) {
        if (bosId == null || (bosText != null && text.startsWith(bosText)) || (ids.length > 0 && ids[0] == bosId)) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = bosId;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    // ---- plain ------------------------------------------------------------------------------------

    /** system + blank line + user; the response's separator goes to the response side. */
    private String plainPrompt(List<Message> msgs, Row row) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        String system = format.system();
        if (!msgs.isEmpty() && msgs.get(0).role().equals(Message.SYSTEM)) system = msgs.get(i++).content();
        if (system != null && !system.isEmpty()) b.append(system).append("\n\n");
        if (i >= msgs.size() || !msgs.get(i).role().equals(Message.USER) || msgs.size() - i > 2
                || (msgs.size() - i == 2 && !msgs.get(i + 1).role().equals(Message.ASSISTANT)))
            throw new DatasetException((row == null ? "" : row.where() + ": ")
                    + "the plain prompt format (the model has no chat template) holds one user turn and one response; "
                    + "multi-turn conversations need a chat template (pass --chat-template FILE)");
        b.append(msgs.get(i).content());
        return b.toString();
    }

    private Encoded plain(Example ex, boolean trainOnInputs) {
        List<Message> msgs = ex.messages();
        String prompt = plainPrompt(msgs, ex.row());
        String response = msgs.get(msgs.size() - 1).content();
        String sep = prompt.isEmpty() || Character.isWhitespace(prompt.charAt(prompt.length() - 1))
                || Character.isWhitespace(response.charAt(0)) ? "" : format.separator();
        String full = prompt + sep + response;
        int[] body = tok.encode(full, false);
        int[] unstable = new int[1];
        int cut = tokenBoundary(full, body, prompt.length(), unstable);
        int[] ids = withBos(full, body);
        int shift = ids.length - body.length;
        ids = Arrays.copyOf(ids, ids.length + 1);
        ids[ids.length - 1] = eosId;
        int[] labels = ids.clone();
        if (!trainOnInputs) Arrays.fill(labels, 0, shift + cut, IGNORE);
        return new Encoded(ex.row(), ids, labels, unstable[0] > 0);
    }

    // ---- chat template ----------------------------------------------------------------------------

    String renderChat(List<Message> msgs, boolean gen) {
        Map<String, Object> ctx = new LinkedHashMap<>(context);
        ctx.put("messages", Message.maps(msgs));
        ctx.put("add_generation_prompt", gen);
        try {
            return template.render(ctx);
        } catch (TemplateException e) {
            throw new DatasetException("the chat template raised: " + e.getMessage());
        }
    }

    private Encoded chat(Example ex, boolean trainOnInputs) {
        List<Message> msgs = ex.messages();
        String full;
        try {
            full = renderChat(msgs, false);
        } catch (DatasetException e) {
            throw new DatasetException(ex.row().where() + ": " + e.getMessage());
        }
        int[] ids = tok.encode(full, false);
        if (trainOnInputs) return new Encoded(ex.row(), ids, ids.clone(), false);
        List<int[]> spans = spansByPrefix(msgs, full);
        if (spans == null) spans = spansByShape(msgs, full);
        if (spans == null)
            throw new DatasetException(ex.row().where() + ": cannot tell where the responses are in this conversation as the chat template renders it "
                    + "(it renders turns differently depending on what follows); use --train-on-inputs to train on every token");
        int[] labels = new int[ids.length];
        Arrays.fill(labels, IGNORE);
        int[] unstable = new int[1];
        for (int[] s : spans) {
            int from = tokenBoundary(full, ids, s[0], unstable);
            int to = s[1] >= full.length() ? ids.length : tokenBoundary(full, ids, s[1], unstable);
            for (int k = from; k < to; k++) labels[k] = ids[k];
        }
        return new Encoded(ex.row(), ids, labels, unstable[0] > 0);
    }

    /** Response spans from renderings of the conversation's prefixes (see the class doc); null when they do not line up. */
    List<int[]> spansByPrefix(List<Message> msgs, String full) {
        List<int[]> spans = new ArrayList<>();
        int prevEnd = 0;
        for (int i = 0; i < msgs.size(); i++) {
            Message m = msgs.get(i);
            if (!m.role().equals(Message.ASSISTANT)) continue;
            if (i == 0) return null;
            String p, e, pNoGen;
            try {
                p = renderChat(msgs.subList(0, i), true);
                pNoGen = renderChat(msgs.subList(0, i), false);
                e = renderChat(msgs.subList(0, i + 1), false);
            } catch (DatasetException x) {
                return null;
            }
            if (!full.startsWith(p) || p.length() < prevEnd) return null;
            int start = p.length();
            // The content as the template wrote it (some templates trim it).
            String c = m.content();
            int at = full.indexOf(c, start);
            if (at < 0) {
                c = c.strip();
                at = c.isEmpty() ? -1 : full.indexOf(c, start);
            }
            if (at < 0) return null;
            int end = at + c.length();
            // What the template writes after the turn, unless the template ignores add_generation_prompt
            // (it renders the same either way): then E_i ends with an unconditional assistant header.
            boolean ignoresGenerationPrompt = pNoGen.equals(p);
            int inE = e.startsWith(p) ? e.indexOf(c, p.length()) : -1;
            String suffix = inE < 0 ? null : e.substring(inE + c.length());
            if (suffix != null && !ignoresGenerationPrompt && full.startsWith(suffix, end)) end += suffix.length();
            else end += specialTokenAt(full, end).length();
            spans.add(new int[] {start, end});
            prevEnd = end;
        }
        return spans;
    }

    /** The longest special token (end of turn, eos, ...) written at {@code pos}, or "". */
    private String specialTokenAt(String text, int pos) {
        String best = "";
        for (jllm.tokenizer.AddedToken t : specials) {
            if (t.content().length() > best.length() && text.startsWith(t.content(), pos)) best = t.content();
        }
        return best;
    }

    private List<int[]> spansByShape(List<Message> msgs, String full) {
        if (!shapeTried) {
            shapeTried = true;
            try {
                ChatShape s = ChatShape.discover(template, context, bosText);
                s.verify(template, context);
                shape = s;
            } catch (ChatShape.Unsupported e) {
                shape = null;
            }
        }
        if (shape == null) return null;
        ChatShape.Rendered r;
        try {
            r = shape.render(msgs, false);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!r.text().equals(full)) return null;
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) if (msgs.get(i).role().equals(Message.ASSISTANT)) spans.add(new int[] {r.responseStart()[i], r.turnEnd()[i]});
        return spans;
    }

    /**
     * The token index where character {@code charPos} of {@code text} falls: the length of the ids of
     * text[0, charPos) when they are a prefix of {@code ids}; else the length of the common prefix (the
     * straddling token goes with what follows) and {@code unstable[0]} is incremented.
     */
    int tokenBoundary(String text, int[] ids, int charPos, int[] unstable) {
        if (charPos <= 0) return 0;
        if (charPos >= text.length()) return ids.length;
        int[] p = tok.encode(text.substring(0, charPos), false);
        int k = 0;
        while (k < p.length && k < ids.length && p[k] == ids[k]) k++;
        if (k == p.length) return k;
        unstable[0]++;
        return k;
    }
}
