package jllm.tokenizer;

import jllm.tokenizer.decoder.Decoder;
import jllm.tokenizer.model.Model;
import jllm.tokenizer.normalizer.Normalizer;
import jllm.tokenizer.pretokenizer.PreTokenizer;
import jllm.tokenizer.processor.PostProcessor;
import jllm.tokenizer.util.IntList;
import jllm.tokenizer.util.Utf8;

import java.util.ArrayList;
import java.util.List;

/**
 * The encode/decode pipeline of Hugging Face tokenizers: added tokens, normalizer, pre-tokenizer,
 * model, post-processor; and for decoding, the decoder chain. Immutable and thread-safe.
 */
public record Pipeline(AddedVocabularyHolder added, Normalizer normalizer, PreTokenizer preTokenizer, Model model,
                       PostProcessor postProcessor, Decoder decoder, boolean addedVerbatim) {

    public Pipeline(AddedVocabularyHolder added, Normalizer normalizer, PreTokenizer preTokenizer, Model model,
                    PostProcessor postProcessor, Decoder decoder) {
        this(added, normalizer, preTokenizer, model, postProcessor, decoder, false);
    }

    /** Wraps the package-private vocabulary so loaders in sub-packages can pass it around. */
    public static final class AddedVocabularyHolder {
        final AddedVocabulary vocab;
        public AddedVocabularyHolder(List<AddedToken> tokens, Normalizer normalizer) {
            vocab = new AddedVocabulary(tokens, normalizer);
        }
        public List<AddedToken> tokens() { return vocab.tokens(); }
    }

    public Pipeline withFront(Normalizer n, PreTokenizer p) {
        return new Pipeline(new AddedVocabularyHolder(added.tokens(), n), n, p, model, postProcessor, decoder, addedVerbatim);
    }

    public int[] encode(String text, boolean addSpecial) {
        IntList ids = new IntList(Math.max(16, text.length() / 3));
        text = Utf8.sanitize(text);
        for (AddedVocabulary.Segment seg : added.vocab.splitRaw(text)) {
            if (seg.id() >= 0) { ids.add(seg.id()); continue; }
            String norm = normalizer == null ? seg.text() : normalizer.normalize(seg.text());
            if (added.vocab.hasNormalized()) {
                for (AddedVocabulary.Segment sub : added.vocab.splitNormalized(norm, seg.start())) {
                    if (sub.id() >= 0) ids.add(sub.id());
                    else encodeText(sub.text(), sub.start() == 0, ids);
                }
            } else {
                encodeText(norm, seg.start() == 0, ids);
            }
        }
        if (addSpecial && postProcessor != null) ids = postProcessor.process(ids);
        return ids.toArray();
    }

    private void encodeText(String s, boolean atStart, IntList ids) {
        if (s.isEmpty()) return;
        if (preTokenizer == null) {
            model.encode(s, ids);
            return;
        }
        List<String> one = new ArrayList<>(1);
        one.add(s);
        for (String piece : preTokenizer.apply(one, atStart)) model.encode(piece, ids);
    }

    public String tokenString(int id) {
        AddedToken t = added.vocab.byId(id);
        return t != null ? t.content() : model.idToToken(id);
    }

    public boolean isSpecial(int id) {
        AddedToken t = added.vocab.byId(id);
        return t != null && t.special();
    }

    public String decode(int[] ids, boolean skipSpecial) {
        if (addedVerbatim) return decodeAddedVerbatim(ids, skipSpecial);
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = tokenString(id);
            if (t == null || (skipSpecial && isSpecial(id))) continue;
            tokens.add(t);
        }
        if (decoder == null) return String.join(" ", tokens);
        return String.join("", decoder.decodeChain(tokens));
    }

    /** llama.cpp style: added (control / user-defined) tokens are copied as they are, only model tokens are decoded. */
    private String decodeAddedVerbatim(int[] ids, boolean skipSpecial) {
        StringBuilder out = new StringBuilder();
        List<String> run = new ArrayList<>();
        for (int id : ids) {
            AddedToken t = added.vocab.byId(id);
            if (t == null) {
                String s = model.idToToken(id);
                if (s != null) run.add(s);
                continue;
            }
            if (skipSpecial && t.special()) continue;
            flushRun(run, out);
            out.append(t.content());
        }
        flushRun(run, out);
        return out.toString();
    }

    private void flushRun(List<String> run, StringBuilder out) {
        if (run.isEmpty()) return;
        Decoder d = decoder;
        // llama.cpp removes the space prefix only from the first piece of the whole output, so a
        // trailing Strip step is skipped for runs that follow an added token.
        if (out.length() > 0 && d instanceof jllm.tokenizer.decoder.DecoderSequence(List<Decoder> steps)
                && !steps.isEmpty() && steps.getLast() instanceof jllm.tokenizer.decoder.StripDecoder) {
            d = new jllm.tokenizer.decoder.DecoderSequence(steps.subList(0, steps.size() - 1));
        }
        out.append(d == null ? String.join(" ", run) : String.join("", d.decodeChain(run)));
        run.clear();
    }
}
