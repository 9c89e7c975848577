package jllm.doctor.lint;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import jllm.doctor.ChatProbe;
import jllm.doctor.Finding;
import jllm.doctor.ModelFiles;
import jllm.doctor.tokens.TokenAudit;
import jllm.model.ModelLoader;
import jllm.tensor.CpuBackend;
import jllm.tensor.Tensor;
import jllm.template.TemplateException;
import jllm.tokenizer.Tokenizer;

/**
 * Reads a model release (config.json, generation_config.json, tokenizer_config.json, tokenizer,
 * chat template, weights; or a GGUF) and reports the bugs releases are known to ship with. Each
 * check is one method; each finding has a stable code.
 */
public final class Lint {
    private final ModelFiles m;
    private final List<Finding> out = new ArrayList<>();

    private Lint(ModelFiles m) { this.m = m; }

    public static List<Finding> run(ModelFiles m) {
        Lint l = new Lint(m);
        l.loads();
        l.vocabSize();
        l.specialTokensInRange();
        l.padToken();
        l.slidingWindow();
        l.rope();
        l.activation();
        l.tiedEmbeddings();
        l.nonFinite();
        l.untrained();
        l.fused();
        l.tokenizerAndTemplate();
        return l.out;
    }

    private void add(Finding f) { out.add(f); }

    // ---- structure ----

    /** The model must load as jllm (and transformers) would read it: shapes agree with config.json. */
    private void loads() {
        if (m.specError != null) {
            add(Finding.error("config-invalid", "config.json cannot be read as a " + m.modelType() + " model: " + m.specError,
                    "Fix the field named above; compare with the config.json of the original release."));
            return;
        }
        try {
            ModelLoader.load(m.path, new CpuBackend(1), null);
        } catch (RuntimeException e) {
            add(Finding.error("weights-mismatch", "the weights do not match config.json: " + e.getMessage(),
                    "Check the shapes in config.json (hidden_size, heads, head_dim, intermediate_size, vocab_size) against the checkpoint."));
        }
    }

    private long rows(String name) {
        if (!m.store.has(name)) return -1;
        long[] s = m.store.info(name).shape();
        return s.length == 0 ? -1 : s[0];
    }

    private void vocabSize() {
        long embed = rows(m.embedName), head = rows(m.lmHeadName);
        int cfg = m.config.has("vocab_size") ? m.config.json().get("vocab_size").asInt() : -1;
        if (embed < 0) {
            add(Finding.error("vocab-size-mismatch", "the checkpoint has no embedding matrix '" + m.embedName + "'", "Re-export the checkpoint with its embeddings."));
            return;
        }
        if (cfg > 0 && cfg != embed)
            add(Finding.error("vocab-size-mismatch", "config vocab_size is " + cfg + " but the embedding matrix has " + embed
                    + " rows: loaders disagree on the vocabulary and ids near the end go to the wrong rows or out of range",
                    "Set vocab_size to " + embed + " (the number of embedding rows)."));
        if (head >= 0 && head != embed)
            add(Finding.error("vocab-size-mismatch", "the LM head has " + head + " rows but the embedding has " + embed
                    + ": logits and token ids do not line up", "Resize both to the same vocabulary (pad the smaller one) and re-export."));
        if (m.tokenizer != null && m.tokenizer.vocabSize() > embed)
            add(Finding.error("vocab-size-mismatch", "the tokenizer produces ids up to " + (m.tokenizer.vocabSize() - 1) + " but the embedding has only "
                    + embed + " rows: those tokens crash or read out of bounds",
                    "Resize the embeddings to at least " + m.tokenizer.vocabSize() + " rows (new rows = mean of the trained rows), or remove the extra tokens."));
    }

    private void specialTokensInRange() {
        long embed = rows(m.embedName);
        if (embed < 0) return;
        for (var role : m.specialIds().entrySet()) {
            for (var e : role.getValue().entrySet()) {
                int id = e.getValue();
                if (id < 0 && e.getKey().startsWith("tokenizer_config"))
                    add(Finding.error("special-token-out-of-range", e.getKey() + " is not a token of the vocabulary",
                            "Name an existing token, or add it to the tokenizer and resize the embeddings."));
                else if (id >= embed)
                    add(Finding.error("special-token-out-of-range", e.getKey() + " = " + id + " is outside the " + embed + "-row embedding",
                            "Point " + role.getKey() + " at a token that exists, or resize the embeddings."));
            }
        }
    }

    private void padToken() {
        Map<String, Integer> pads = m.specialIds().get("pad");
        Set<Integer> eos = new LinkedHashSet<>(m.generationEos());
        eos.addAll(m.specialIds().get("eos").values());
        if (pads.isEmpty()) {
            add(Finding.warning("missing-pad-token", "no pad token is defined (config, generation_config, tokenizer_config): batched inference and "
                    + "fine-tuning must pick one, and the usual shortcut pad = eos teaches a fine-tuned model never to stop",
                    "Set pad_token (and pad_token_id) to an unused token" + padCandidates(eos) + "."));
            return;
        }
        for (var e : pads.entrySet()) {
            if (eos.contains(e.getValue()))
                add(Finding.warning("pad-equals-eos", e.getKey() + " = " + e.getValue() + " is also an end-of-sequence id: when padding is masked out of the "
                        + "loss, the eos at the end of every example is masked too, and the fine-tuned model never learns to stop",
                        "Use a distinct unused token as pad" + padCandidates(eos) + "."));
        }
    }

    /** Reserved or pad-like tokens of the vocabulary that could serve as pad. */
    private String padCandidates(Set<Integer> eos) {
        Tokenizer t = m.tokenizer;
        if (t == null) return "";
        List<String> c = new ArrayList<>();
        for (var a : t.addedTokens()) {
            String s = a.content().toLowerCase(java.util.Locale.ROOT);
            if (!eos.contains(a.id()) && (s.contains("pad") || s.contains("reserved") || s.contains("unused"))) c.add(a.content() + " (" + a.id() + ")");
            if (c.size() == 3) break;
        }
        return c.isEmpty() ? "" : ", e.g. " + String.join(", ", c);
    }

    private void slidingWindow() {
        JsonNode w = m.config.node("sliding_window");
        if (w == null || !w.canConvertToLong() || !w.isIntegralNumber()) return;
        if (m.config.has("use_sliding_window") && !m.config.bool("use_sliding_window", true)) return;
        long v = w.asLong();
        if (v >= 255 && Long.bitCount(v + 1) == 1)
            add(Finding.warning("sliding-window-off-by-one", "sliding_window = " + v + " is one less than a power of two: transformers lets each token "
                    + "see the W most recent keys including itself (i - W < j <= i), so this is a " + v + "-token window where " + (v + 1)
                    + " was almost certainly meant (Phi-3 shipped 2047); outputs change once the context passes " + v + " tokens",
                    "Set sliding_window to " + (v + 1) + " if the model was trained with a " + (v + 1) + "-token window."));
        if (v <= 0) add(Finding.error("sliding-window-off-by-one", "sliding_window = " + v + " leaves no keys to attend to", "Set the window the model was trained with."));
    }

    private void rope() {
        List<String> types = new ArrayList<>(new LinkedHashSet<>(m.config.strings("layer_types")));
        if (types.isEmpty()) types.add(null);
        int headDim = m.spec != null ? m.spec.headDim : 0;
        for (String lt : types) {
            JsonNode p = m.config.ropeParameters(lt);
            String where = lt == null ? "" : " (" + lt + " layers)";
            double theta = p.path("rope_theta").asDouble(10000);
            if (!(theta > 1) || !Double.isFinite(theta))
                add(Finding.error("rope-config-suspicious", "rope_theta" + where + " = " + p.path("rope_theta") + ": RoPE frequencies 1/theta^(2i/d) need theta > 1",
                        "Set rope_theta to the base the model was trained with (10000, 500000, 1000000 are common)."));
            String type = p.path("rope_type").asText("default");
            if (p.has("type") && p.has("rope_type") && !p.get("type").asText().equals(type))
                add(Finding.warning("rope-config-suspicious", "rope_scaling has type '" + p.get("type").asText() + "' and rope_type '" + type
                        + "'" + where + ": transformers reads rope_type, older tools read type", "Keep one key, with the intended value."));
            double factor = p.path("factor").asDouble(1);
            switch (type) {
                case "default" -> { }
                case "linear", "dynamic", "yarn", "llama3" -> {
                    if (!p.has("factor") || !(factor > 0))
                        add(Finding.error("rope-config-suspicious", type + " RoPE scaling" + where + " needs a positive factor, got " + p.path("factor"),
                                "Set factor (context extension ratio, e.g. 8 for Llama 3.1)."));
                    else if (factor < 1)
                        add(Finding.warning("rope-config-suspicious", type + " RoPE scaling factor " + factor + where + " is below 1: it compresses the context "
                                + "instead of extending it", "Use factor >= 1 (new context / original context)."));
                    if (type.equals("llama3")) {
                        double lo = p.path("low_freq_factor").asDouble(1), hi = p.path("high_freq_factor").asDouble(4);
                        if (!(hi > lo))
                            add(Finding.error("rope-config-suspicious", "llama3 RoPE scaling" + where + " has low_freq_factor " + lo + " >= high_freq_factor " + hi
                                    + ": the blend between the two wavelength bounds divides by zero or runs backwards", "Llama 3.1 uses low 1, high 4."));
                        long orig = p.path("original_max_position_embeddings").asLong(0), max = m.config.json().path("max_position_embeddings").asLong(0);
                        if (orig <= 0) add(Finding.error("rope-config-suspicious", "llama3 RoPE scaling" + where + " has no original_max_position_embeddings",
                                "Set it to the pre-extension context (8192 for Llama 3.1)."));
                        else if (max > 0 && orig > max) add(Finding.warning("rope-config-suspicious", "original_max_position_embeddings " + orig
                                + " is larger than max_position_embeddings " + max + where, "Swap them, or set the extended context in max_position_embeddings."));
                    }
                }
                case "longrope", "su" -> {
                    double prf = m.config.num("partial_rotary_factor", p.path("partial_rotary_factor").asDouble(1));
                    int half = (int) (headDim * prf) / 2;
                    for (String k : List.of("short_factor", "long_factor")) {
                        JsonNode f = p.get(k);
                        if (f == null || !f.isArray()) add(Finding.error("rope-config-suspicious", "longrope scaling" + where + " has no " + k + " list", "Copy it from the original release."));
                        else if (half > 0 && f.size() != half) add(Finding.error("rope-config-suspicious", "longrope " + k + where + " has " + f.size()
                                + " entries, the rotary dimension needs " + half, "Use one factor per rotated frequency (rotary dim / 2)."));
                    }
                }
                default -> add(Finding.error("rope-config-suspicious", "unknown rope_type '" + type + "'" + where,
                        "Use one of default, linear, dynamic, yarn, longrope, llama3."));
            }
        }
        double prf = m.config.num("partial_rotary_factor", m.config.ropeParameters(null).path("partial_rotary_factor").asDouble(1));
        if (!(prf > 0 && prf <= 1))
            add(Finding.error("rope-config-suspicious", "partial_rotary_factor = " + prf + " must be in (0, 1]", "Set the fraction of each head that RoPE rotates."));
        else if (headDim > 0 && ((int) (headDim * prf)) % 2 != 0)
            add(Finding.error("rope-config-suspicious", "RoPE rotates " + (int) (headDim * prf) + " dims of each head: an odd count cannot be split into pairs",
                    "Use a partial_rotary_factor that gives an even rotary dimension."));
    }

    /** Gemma was trained with tanh-approximated GELU; an exact "gelu" in hidden_act made implementations disagree. */
    private void activation() {
        if (!m.modelType().startsWith("gemma") || m.gguf) return;
        String act = m.config.str("hidden_activation", null), legacy = m.config.str("hidden_act", null);
        if (act == null && "gelu".equals(legacy))
            add(Finding.warning("activation-mismatch", "hidden_act is 'gelu' (exact erf GELU in transformers) and hidden_activation is unset: Gemma was trained "
                    + "with the tanh approximation, and implementations disagree on which one this config means",
                    "Set \"hidden_activation\": \"gelu_pytorch_tanh\"."));
        else if ("gelu".equals(act))
            add(Finding.warning("activation-mismatch", "hidden_activation is exact 'gelu' but Gemma models were trained with tanh GELU", "Use \"gelu_pytorch_tanh\"."));
    }

    private void tiedEmbeddings() {
        if (m.gguf || m.spec == null || !m.store.has(m.embedName)) return;
        boolean tie = m.spec.tiedEmbeddings, hasHead = m.store.has(m.lmHeadName);
        if (!tie && !hasHead) {
            add(Finding.error("tied-embeddings-mismatch", "tie_word_embeddings is false but the checkpoint has no " + m.lmHeadName
                    + ": transformers initialises a random LM head (\"newly initialized\" warning) and the model outputs noise",
                    "Set \"tie_word_embeddings\": true if the head shares the embedding, or add the trained lm_head.weight."));
            return;
        }
        if (!hasHead) return;
        Tensor e = m.store.tensor(m.embedName), h = m.store.tensor(m.lmHeadName);
        if (!Arrays.equals(e.shape(), h.shape())) return; // vocab-size-mismatch says it
        boolean same = sameValues(e, h);
        if (tie && !same)
            add(Finding.error("tied-embeddings-mismatch", "tie_word_embeddings is true but " + m.lmHeadName + " differs from the embedding: transformers "
                    + "ignores the stored head and reuses the embedding, llama.cpp's converter keeps the stored head, so the two run different models",
                    "Set \"tie_word_embeddings\": false if the stored head is the trained one; otherwise drop lm_head.weight."));
        else if (!tie && same)
            add(Finding.info("tied-embeddings-mismatch", m.lmHeadName + " is identical to the embedding but tie_word_embeddings is false: the matrix is stored "
                    + "and trained twice", "Set \"tie_word_embeddings\": true and drop lm_head.weight to save memory (only if it should stay tied in training)."));
    }

    private static boolean sameValues(Tensor a, Tensor b) {
        int cols = a.dim(-1);
        float[] x = new float[cols], y = new float[cols];
        for (long r = 0; r < a.dim(0); r++) {
            a.read(r * cols, x, 0, cols);
            b.read(r * cols, y, 0, cols);
            if (!Arrays.equals(x, y)) return false;
        }
        return true;
    }

    private void nonFinite() {
        Map<String, long[]> bad = new LinkedHashMap<>();
        new ArrayList<>(m.store.names()).parallelStream().forEach(name -> {
            Tensor t;
            try {
                if (!m.store.info(name).dtype().floating) return;
                t = m.store.tensor(name);
            } catch (RuntimeException e) {
                return; // integer or unreadable tensors are other checks' business
            }
            long[] c = countNonFinite(t);
            if (c[0] + c[1] > 0) synchronized (bad) { bad.put(name, c); }
        });
        if (bad.isEmpty()) return;
        String list = new TreeSet<>(bad.keySet()).stream().limit(8)
                .map(n -> n + " (" + bad.get(n)[0] + " NaN, " + bad.get(n)[1] + " Inf)").collect(Collectors.joining(", "));
        add(Finding.error("nan-or-inf-weights", bad.size() + " tensor(s) hold NaN or Inf values, which poison every output they touch: " + list
                + (bad.size() > 8 ? ", ..." : ""), "Re-export from the original weights; if a merge or conversion produced them, redo it in fp32 and check for overflow before casting."));
    }

    static long[] countNonFinite(Tensor t) {
        AtomicLong nan = new AtomicLong(), inf = new AtomicLong();
        float[] buf = new float[1 << 16];
        for (long off = 0; off < t.numel(); off += buf.length) {
            int n = (int) Math.min(buf.length, t.numel() - off);
            t.read(off, buf, 0, n);
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(buf[i])) nan.incrementAndGet();
                else if (Float.isInfinite(buf[i])) inf.incrementAndGet();
            }
        }
        return new long[] {nan.get(), inf.get()};
    }

    private void untrained() {
        if (!m.store.has(m.embedName)) return;
        TokenAudit.Report r = TokenAudit.run(m);
        List<TokenAudit.Entry> used = r.flagged().stream().filter(TokenAudit.Entry::inTemplate).toList();
        if (!used.isEmpty())
            add(Finding.error("untrained-tokens", used.size() + " untrained token(s) are written by the chat template: " + list(used)
                    + ". Their embedding rows are ~0, so chatting or fine-tuning with this template feeds the model garbage and gradients can blow up",
                    "Set their embedding (and LM head) rows to the mean of the trained rows: jllm doctor tokens MODEL --fix OUT; or train the embeddings, or use the instruct model."));
        int rest = r.flagged().size() - used.size();
        if (rest > 0)
            add(Finding.warning("untrained-tokens", rest + " untrained token(s) (embedding and LM head rows ~0 or duplicated)"
                    + (r.templateChecked() ? ", not used by the chat template" : "") + ": " + list(r.flagged().stream().filter(e -> !e.inTemplate()).toList())
                    + ". They matter if your data contains them", "jllm doctor tokens MODEL --fix OUT sets them to the mean of the trained rows."));
        if (!r.roles().isEmpty())
            add(Finding.info("untrained-tokens", "untrained special token(s) " + list(r.roles()) + (r.roles().stream().anyMatch(TokenAudit.Entry::inTemplate)
                    ? " (used by the chat template)" : "") + ": usual in base models, but a fine-tune that trains on them needs their rows fixed or trained",
                    "jllm doctor tokens MODEL --fix OUT --include-special"));
    }

    private static String list(List<TokenAudit.Entry> es) {
        String s = es.stream().limit(10).map(e -> e.id() + (e.text() == null ? "" : " " + e.text()) + (e.role() == null ? "" : " [" + e.role() + "]"))
                .collect(Collectors.joining(", "));
        return es.size() > 10 ? s + ", ... (" + es.size() + " in all)" : s;
    }

    private void fused() {
        Set<String> kinds = new TreeSet<>();
        for (String n : m.store.names()) {
            if (n.contains("qkv_proj") || n.contains("attn_qkv") || n.contains("query_key_value") || n.contains("Wqkv")) kinds.add("q/k/v");
            if (n.contains("gate_up_proj") && !n.contains("experts")) kinds.add("gate/up");
        }
        if (m.gguf && m.modelType().equals("phi3") && !m.store.has("blk.0.ffn_gate.weight")) kinds.add("gate/up");
        if (!kinds.isEmpty())
            add(Finding.info("fused-projections", "fused " + String.join(" and ", kinds) + " projection weights: LoRA on a fused matrix learns one "
                    + "low-rank update for all parts together (PEFT's behaviour), and tools that target q_proj/k_proj/v_proj by name find nothing",
                    "Split the fused weights (rows Q, K, V / gate, up) before LoRA, or target the fused module and split A/B afterwards (copy A, slice B)."));
    }

    // ---- tokenizer and chat template ----

    private void tokenizerAndTemplate() {
        if (m.tokenizerError != null) {
            add(Finding.error("tokenizer-error", "the tokenizer does not load: " + m.tokenizerError, "Fix or replace the tokenizer files."));
            return;
        }
        Tokenizer t = m.tokenizer;
        if (t == null) {
            add(Finding.info("no-tokenizer", "no tokenizer beside the weights: BOS, template and end-token checks were skipped",
                    "Ship tokenizer.json and tokenizer_config.json with the model."));
            return;
        }
        String src = t.chatTemplate().orElse(null);
        ChatProbe probe = null;
        if (src == null) {
            add(Finding.info("chat-template-error", "no chat template: chat front-ends fall back to a generic format the model was not trained on",
                    "Add chat_template to tokenizer_config.json (or chat_template.jinja) if the model is meant for chat."));
        } else {
            try {
                probe = new ChatProbe(src, t);
            } catch (TemplateException e) {
                add(Finding.error("chat-template-error", "the chat template does not compile: " + e.describe(), "Fix the template syntax (jllm template render shows where)."));
            }
        }
        String rendered = null;
        if (probe != null) rendered = renderChecks(probe);
        bos(t, rendered);
        if (probe != null) endOfTurn(probe, t);
    }

    /** Renders the probe conversations; returns the single-turn rendering with a generation prompt, or null. */
    private String renderChecks(ChatProbe p) {
        String withPrompt;
        try {
            withPrompt = p.render(ChatProbe.userOnly(), true);
        } catch (TemplateException e) {
            add(Finding.error("chat-template-error", "the chat template fails on a one-message conversation: " + e.describe(),
                    "Fix the template; jllm template render TEMPLATE --context ctx.json reproduces it."));
            return null;
        }
        try {
            if (p.render(ChatProbe.userOnly(), false).equals(withPrompt))
                add(Finding.info("chat-template-error", "the chat template renders the same with and without add_generation_prompt: fine when the "
                        + "user turn's closing marker opens the assistant turn (Mistral's [/INST]); otherwise the model continues the user's message",
                        "If the model has an assistant header, emit it when add_generation_prompt is true."));
        } catch (TemplateException e) {
            add(Finding.error("chat-template-error", "the chat template fails without a generation prompt: " + e.describe(), "Fix the template."));
        }
        try {
            p.render(ChatProbe.withSystem(), true);
        } catch (TemplateException e) {
            if (e.kind().equals("TemplateError") && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("system"))
                add(Finding.info("chat-template-error", "the chat template rejects system messages (\"" + e.getMessage() + "\")",
                        "Merge the system prompt into the first user message."));
            else add(Finding.error("chat-template-error", "the chat template fails on a system + multi-turn conversation: " + e.describe(), "Fix the template."));
        }
        return withPrompt;
    }

    private void bos(Tokenizer t, String rendered) {
        String bosText = t.specialTokens().get("bos_token");
        if (t.bosId().isEmpty() || bosText == null) return;
        int bos = t.bosId().getAsInt();
        int[] plain = t.encode("Hello world", true);
        boolean tokenizerAdds = plain.length > 0 && plain[0] == bos;
        boolean templateWrites = rendered != null && rendered.startsWith(bosText);
        if (tokenizerAdds && templateWrites) {
            String msg = "the chat template writes " + bosText + " and the tokenizer also adds it: anything that tokenizes the rendered chat with special "
                    + "tokens on (TRL-style SFT pipelines, llama.cpp) feeds two BOS tokens, which degrades outputs";
            String fix = "Tokenize rendered chats with add_special_tokens=False, or drop {{ bos_token }} from the template"
                    + (m.gguf ? " (llama.cpp adds BOS itself)." : ".");
            // transformers' apply_chat_template tokenizes without special tokens, so an HF release is right as
            // shipped (Llama 3 does exactly this); a GGUF runtime that adds BOS to the rendered chat is not.
            add(m.gguf ? Finding.warning("double-bos", msg, fix) : Finding.info("double-bos", msg, fix));
        }
        boolean needsBos = m.modelType().startsWith("gemma");
        if (!tokenizerAdds && (rendered == null || !templateWrites)) {
            String msg = "the tokenizer defines BOS " + bosText + " but neither tokenizer(text) nor the chat template adds it"
                    + (needsBos ? ": Gemma produces garbage without BOS" : ": models trained with BOS degrade without it");
            String fix = "Set add_bos_token: true in tokenizer_config.json (or start the template with {{ bos_token }}).";
            add(needsBos ? Finding.error("missing-bos", msg, fix) : Finding.warning("missing-bos", msg, fix));
        } else if (tokenizerAdds && rendered != null && !templateWrites) {
            add(Finding.warning("missing-bos", "tokenizer(text) adds BOS " + bosText + " but the chat template does not write it: apply_chat_template "
                    + "(which tokenizes with add_special_tokens=False) gives chats without BOS", "Start the template with {{ bos_token }}."));
        }
    }

    /** The token that closes an assistant turn must be one generation stops at, or the model runs on into the next turn. */
    private void endOfTurn(ChatProbe p, Tokenizer t) {
        String r;
        try {
            r = p.render(ChatProbe.answered(), false);
        } catch (TemplateException e) {
            return;
        }
        int at = r.indexOf(ChatProbe.MARKER);
        if (at < 0) return;
        int[] after = t.encode(r.substring(at + ChatProbe.MARKER.length()), false);
        Integer end = null;
        for (int id : after) if (t.isSpecial(id)) { end = id; break; }
        if (end == null) return;
        Set<Integer> stops = m.generationEos();
        if (stops.contains(end)) return;
        String where = m.gguf ? "the GGUF's eos/eot ids " : (m.generationConfig != null && m.generationConfig.has("eos_token_id") ? "generation_config.json eos_token_id " : "config.json eos_token_id ");
        String msg = "the chat template ends assistant turns with " + t.tokenText(end) + " (" + end + ") but " + where + stops
                + " does not include it: generation runs past the end of the answer into a made-up next turn";
        String fix = "Add " + end + " to eos_token_id in generation_config.json (a list is allowed).";
        // llama.cpp also stops at end-of-turn tokens it recognises by name, so for a GGUF this is softer.
        add(m.gguf ? Finding.warning("eos-mismatch", msg, fix) : Finding.error("eos-mismatch", msg, fix));
    }
}
