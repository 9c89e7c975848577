package jllm.tokenizer.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jllm.formats.FormatException;
import jllm.tokenizer.AddedToken;
import jllm.tokenizer.Pipeline;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.decoder.*;
import jllm.tokenizer.model.Bpe;
import jllm.tokenizer.model.Model;
import jllm.tokenizer.model.Unigram;
import jllm.tokenizer.model.Vocab;
import jllm.tokenizer.model.WordPiece;
import jllm.tokenizer.normalizer.*;
import jllm.tokenizer.pretokenizer.*;
import jllm.tokenizer.processor.PostProcessor;
import jllm.tokenizer.processor.ProcessorSequence;
import jllm.tokenizer.processor.TemplateProcessing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads Hugging Face tokenizer.json, plus tokenizer_config.json / generation_config.json beside it. */
public final class HfJsonLoader {
    // Vocabulary tokens are JSON field names: Jackson's default interning/canonicalizing of field
    // names would push 100k+ one-off strings through String.intern and cost seconds.
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.INTERN_FIELD_NAMES)
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build());

    private final String src;
    private Model model;
    /** vocab / merges of the model read by the streaming parser (null when the tree holds them). */
    private Map<String, Integer> streamedVocab;
    private String[][] streamedMerges;

    private HfJsonLoader(String src) { this.src = src; }

    public static Tokenizer load(Path tokenizerJson) {
        HfJsonLoader loader = new HfJsonLoader(tokenizerJson.toString());
        JsonNode root = loader.readStreaming(tokenizerJson);
        Path dir = tokenizerJson.toAbsolutePath().getParent();
        JsonNode config = dir != null && Files.isRegularFile(dir.resolve("tokenizer_config.json"))
                ? readJson(dir.resolve("tokenizer_config.json")) : JSON.createObjectNode();
        JsonNode gen = dir != null && Files.isRegularFile(dir.resolve("generation_config.json"))
                ? readJson(dir.resolve("generation_config.json")) : JSON.createObjectNode();
        return loader.build(root, config, gen, dir);
    }

    /**
     * Reads tokenizer.json with the vocabulary and merges streamed straight into Java structures: a
     * Jackson tree of a 262k-token vocabulary and 500k merges costs seconds and hundreds of MB.
     */
    private JsonNode readStreaming(Path p) {
        byte[] bytes = jllm.formats.io.InputFile.requireUtf8(jllm.formats.io.InputFile.bytes(p, null), p.toString());
        try (com.fasterxml.jackson.core.JsonParser jp = JSON.createParser(bytes)) {
            if (jp.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) throw fail("not a tokenizer.json (not a JSON object)");
            com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
            while (jp.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String name = jp.currentName();
                var t = jp.nextToken();
                if (name.equals("model") && t == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                    com.fasterxml.jackson.databind.node.ObjectNode m = JSON.createObjectNode();
                    while (jp.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                        String f = jp.currentName();
                        var ft = jp.nextToken();
                        if (f.equals("vocab") && ft == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                            streamedVocab = new HashMap<>(1 << 16);
                            while (jp.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                                String k = jp.currentName();
                                if (jp.nextToken() != com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT || jp.getLongValue() < 0) {
                                    throw fail("bad id for token '" + k + "'");
                                }
                                if (jp.getLongValue() > Vocab.MAX_ID) throw fail(Vocab.outOfRange("token '" + k + "'", jp.getLongValue()));
                                streamedVocab.put(k, jp.getIntValue());
                            }
                            m.putObject("vocab");
                        } else if (f.equals("merges") && ft == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                            List<String[]> merges = new ArrayList<>(1 << 16);
                            com.fasterxml.jackson.core.JsonToken x;
                            while ((x = jp.nextToken()) != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                                int i = merges.size();
                                if (x == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
                                    String s = jp.getText();
                                    int sp = s.indexOf(' ', 1);
                                    if (sp < 0) throw fail("merge #" + i + " '" + s + "' is not 'a b'");
                                    merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
                                } else if (x == com.fasterxml.jackson.core.JsonToken.START_ARRAY
                                        && jp.nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
                                    String a = jp.getText();
                                    if (jp.nextToken() != com.fasterxml.jackson.core.JsonToken.VALUE_STRING) throw fail("merge #" + i + " is neither 'a b' nor [a, b]");
                                    String b = jp.getText();
                                    if (jp.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) throw fail("merge #" + i + " is neither 'a b' nor [a, b]");
                                    merges.add(new String[] {a, b});
                                } else {
                                    throw fail("merge #" + i + " is neither 'a b' nor [a, b]");
                                }
                            }
                            streamedMerges = merges.toArray(new String[0][]);
                            m.putArray("merges");
                        } else {
                            m.set(f, jp.readValueAsTree());
                        }
                    }
                    root.set("model", m);
                } else {
                    JsonNode v = jp.readValueAsTree();
                    root.set(name, v == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : v);
                }
            }
            return root;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(p + ": " + jllm.formats.io.InputFile.jsonError(e));
        } catch (IOException e) {
            throw new FormatException(p + ": cannot read: " + jllm.formats.io.OutputFile.describe(e));
        }
    }

    /** Builds from already-parsed JSON (tests, embedded use). */
    public static Tokenizer fromJson(String source, JsonNode tokenizerJson, JsonNode config) {
        return new HfJsonLoader(source).build(tokenizerJson, config == null ? JSON.createObjectNode() : config,
                JSON.createObjectNode(), null);
    }

    static JsonNode readJson(Path p) {
        return jllm.formats.io.InputFile.json(p, null);
    }

    private FormatException fail(String msg) { return new FormatException(src + ": " + msg); }

    private Tokenizer build(JsonNode root, JsonNode config, JsonNode gen, Path dir) {
        if (!root.isObject() || !root.has("model")) throw fail("not a tokenizer.json (no \"model\")");
        model = model(root.get("model"));
        Normalizer normalizer = normalizer(root.get("normalizer"));
        PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"));
        Decoder decoder = decoder(root.get("decoder"));
        List<AddedToken> added = new ArrayList<>();
        JsonNode at = root.get("added_tokens");
        if (at != null && at.isArray()) {
            for (JsonNode t : at) {
                if (!t.has("id") || !t.has("content")) throw fail("added token without id/content: " + t);
                if (!t.get("id").canConvertToLong() || t.get("id").asLong() < 0 || t.get("id").asLong() > Vocab.MAX_ID)
                    throw fail(Vocab.outOfRange("added token " + t.get("content"), t.get("id").asLong()));
                // tokenizers gives an added token that is also a model token the model's id, whatever the file says.
                int modelId = model.tokenToId(t.get("content").asText());
                added.add(new AddedToken(modelId >= 0 ? modelId : t.get("id").asInt(), t.get("content").asText(), t.path("special").asBoolean(false),
                        t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                        t.path("normalized").asBoolean(!t.path("special").asBoolean(false)), t.path("single_word").asBoolean(false)));
            }
        }
        PostProcessor post = postProcessor(root.get("post_processor"), added);
        PostProcessor fromFlags = postProcessorFromConfigFlags(config, added);
        if (fromFlags != null) post = fromFlags;
        Pipeline plain = new Pipeline(new Pipeline.AddedVocabularyHolder(added, normalizer), normalizer, pre, model, post, decoder);
        Pipeline special = plain;
        if (isLegacyLlamaFront(config, normalizer, pre)) {
            // transformers 5 rebuilds Llama tokenizers with a Metaspace pre-tokenizer that prepends "▁"
            // only at the very start of the input (and never doubles an existing one), instead of
            // tokenizer.json's per-segment Prepend normalizer; its tokenizer(text) ids follow that.
            special = plain.withFront(null, new Metaspace('\u2581', Metaspace.Prepend.FIRST, false));
        }
        int vocabSize = model.vocabSize();
        for (AddedToken t : added) vocabSize = Math.max(vocabSize, t.id() + 1);

        Map<String, String> specials = new LinkedHashMap<>();
        for (String role : List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")) {
            String s = tokenString(config.get(role));
            if (s != null) specials.put(role, s);
        }
        Map<String, Integer> idOf = new HashMap<>();
        for (AddedToken t : added) idOf.putIfAbsent(t.content(), t.id());
        Integer bos = specials.containsKey("bos_token") ? lookup(idOf, specials.get("bos_token")) : null;
        Set<Integer> eos = new LinkedHashSet<>();
        if (specials.containsKey("eos_token")) {
            Integer e = lookup(idOf, specials.get("eos_token"));
            if (e != null) eos.add(e);
        }
        JsonNode ge = gen.get("eos_token_id");
        if (ge != null && ge.isInt()) eos.add(ge.asInt());
        if (ge != null && ge.isArray()) for (JsonNode x : ge) eos.add(x.asInt());
        if (bos == null && gen.has("bos_token_id") && gen.get("bos_token_id").isInt()) bos = gen.get("bos_token_id").asInt();

        Map<String, String> templates = new LinkedHashMap<>();
        JsonNode ct = config.get("chat_template");
        if (ct != null && ct.isTextual()) templates.put("default", ct.asText());
        if (ct != null && ct.isArray()) {
            for (JsonNode t : ct) templates.put(t.path("name").asText("default"), t.path("template").asText());
        }
        if (dir != null && !templates.containsKey("default") && Files.isRegularFile(dir.resolve("chat_template.jinja"))) {
            try {
                templates.put("default", Files.readString(dir.resolve("chat_template.jinja")));
            } catch (IOException e) {
                throw new FormatException(dir.resolve("chat_template.jinja") + ": cannot read: " + e.getMessage());
            }
        }
        return new Tokenizer(src, plain, special, vocabSize, bos, eos.stream().mapToInt(Integer::intValue).toArray(), templates, specials);
    }

    /**
     * transformers' Llama/Gemma fast tokenizers rebuild their post-processor from tokenizer_config's
     * add_bos_token / add_eos_token (update_post_processor), overriding tokenizer.json's template.
     */
    private PostProcessor postProcessorFromConfigFlags(JsonNode config, List<AddedToken> added) {
        String cls = config.path("tokenizer_class").asText("").replace("Fast", "");
        if (!Set.of("LlamaTokenizer", "CodeLlamaTokenizer", "GemmaTokenizer").contains(cls)) return null;
        if (!config.has("add_bos_token") && !config.has("add_eos_token")) return null;
        Map<String, Integer> idOf = new HashMap<>();
        for (AddedToken t : added) idOf.putIfAbsent(t.content(), t.id());
        List<int[]> items = new ArrayList<>();
        if (config.path("add_bos_token").asBoolean(true)) {
            String bos = tokenString(config.get("bos_token"));
            Integer id = bos == null ? null : lookup(idOf, bos);
            if (id == null) throw fail("add_bos_token is set but bos_token " + bos + " is not a token");
            items.add(new int[] {id});
        }
        items.add(TemplateProcessing.SEQUENCE);
        if (config.path("add_eos_token").asBoolean(false)) {
            String eos = tokenString(config.get("eos_token"));
            Integer id = eos == null ? null : lookup(idOf, eos);
            if (id == null) throw fail("add_eos_token is set but eos_token " + eos + " is not a token");
            items.add(new int[] {id});
        }
        return new TemplateProcessing(items.toArray(new int[0][]));
    }

    private Integer lookup(Map<String, Integer> added, String s) {
        Integer id = added.get(s);
        if (id != null) return id;
        int m = model.tokenToId(s);
        return m >= 0 ? m : null;
    }

    private static boolean isLegacyLlamaFront(JsonNode config, Normalizer n, PreTokenizer p) {
        String cls = config.path("tokenizer_class").asText("");
        if (!(cls.equals("LlamaTokenizer") || cls.equals("LlamaTokenizerFast") || cls.equals("CodeLlamaTokenizer")
                || cls.equals("CodeLlamaTokenizerFast"))) return false;
        return p == null && n instanceof NormalizerSequence(List<Normalizer> steps) && steps.size() == 2
                && steps.get(0) instanceof Prepend(String pre) && pre.equals("\u2581")
                && steps.get(1) instanceof Replace r && " ".equals(r.literal()) && "\u2581".equals(r.content());
    }

    private static String tokenString(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isObject() && n.has("content")) return n.get("content").asText();
        return null;
    }

    // ---- model ----

    private Model model(JsonNode m) {
        String type = m.path("type").asText(m.has("merges") ? "BPE" : m.has("vocab") && m.get("vocab").isArray() ? "Unigram" : "");
        return switch (type) {
            case "BPE" -> bpe(m);
            case "WordPiece" -> new WordPiece(vocabMap(m.get("vocab")), m.path("unk_token").asText("[UNK]"),
                    m.path("continuing_subword_prefix").asText("##"), m.path("max_input_chars_per_word").asInt(100));
            case "Unigram" -> unigram(m);
            default -> throw fail("unsupported model type '" + type + "'");
        };
    }

    private Vocab vocabMap(JsonNode v) {
        if (streamedVocab != null) return new Vocab(streamedVocab);
        if (v == null || !v.isObject()) throw fail("model.vocab must be an object of token -> id");
        Map<String, Integer> ids = new HashMap<>(v.size() * 2);
        for (var it = v.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) throw fail("bad id for token '" + e.getKey() + "'");
            if (e.getValue().asInt() > Vocab.MAX_ID) throw fail(Vocab.outOfRange("token '" + e.getKey() + "'", e.getValue().asInt()));
            ids.put(e.getKey(), e.getValue().asInt());
        }
        return new Vocab(ids);
    }

    private Model bpe(JsonNode m) {
        Vocab vocab = vocabMap(m.get("vocab"));
        JsonNode mj = m.get("merges");
        if (streamedMerges == null && (mj == null || !mj.isArray())) throw fail("BPE model without a merges array");
        String[][] pairs = streamedMerges != null ? streamedMerges : new String[mj.size()][];
        for (int i = 0; streamedMerges == null && i < pairs.length; i++) {
            JsonNode x = mj.get(i);
            if (x.isTextual()) {
                String s = x.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw fail("merge #" + i + " '" + s + "' is not 'a b'");
                pairs[i] = new String[] {s.substring(0, sp), s.substring(sp + 1)};
            } else if (x.isArray() && x.size() == 2) {
                pairs[i] = new String[] {x.get(0).asText(), x.get(1).asText()};
            } else {
                throw fail("merge #" + i + " is neither 'a b' nor [a, b]");
            }
        }
        String prefix = text(m.get("continuing_subword_prefix"));
        try {
            return new Bpe(vocab, Bpe.mergesFromPairs(vocab, pairs, prefix), text(m.get("unk_token")),
                    m.path("fuse_unk").asBoolean(false), m.path("byte_fallback").asBoolean(false),
                    m.path("ignore_merges").asBoolean(false), prefix, text(m.get("end_of_word_suffix")));
        } catch (FormatException e) {
            throw fail(e.getMessage());
        }
    }

    private Model unigram(JsonNode m) {
        JsonNode v = m.get("vocab");
        String[] toks = new String[v.size()];
        double[] scores = new double[v.size()];
        for (int i = 0; i < toks.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isArray() || e.size() != 2) throw fail("Unigram vocab entry #" + i + " is not [piece, score]");
            toks[i] = e.get(0).asText();
            scores[i] = e.get(1).asDouble();
        }
        JsonNode uj = m.get("unk_id");
        int unk = uj == null || uj.isNull() ? -1 : uj.asInt(-1);
        if (unk >= toks.length || (uj != null && !uj.isNull() && unk < 0))
            throw fail("Unigram unk_id " + uj + " is not an id of its " + toks.length + "-token vocabulary");
        return new Unigram(Vocab.of(toks), scores, unk, m.path("byte_fallback").asBoolean(false), true, null);
    }

    private static String text(JsonNode n) { return n == null || n.isNull() ? null : n.asText(); }

    // ---- normalizers ----

    private Normalizer normalizer(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "NFC" -> new UnicodeNormalizer(java.text.Normalizer.Form.NFC);
            case "NFD" -> new UnicodeNormalizer(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new UnicodeNormalizer(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new UnicodeNormalizer(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            case "Strip" -> new Strip(n.path("strip_left").asBoolean(true), n.path("strip_right").asBoolean(true));
            case "StripAccents" -> new StripAccents();
            case "Replace" -> replace(n);
            case "Prepend" -> new Prepend(n.path("prepend").asText());
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (JsonNode x : n.path("normalizers")) { Normalizer s = normalizer(x); if (s != null) steps.add(s); }
                yield new NormalizerSequence(steps);
            }
            case "BertNormalizer" -> {
                boolean lower = n.path("lowercase").asBoolean(true);
                JsonNode sa = n.get("strip_accents");
                yield new BertNormalizer(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
                        sa == null || sa.isNull() ? lower : sa.asBoolean(), lower);
            }
            case "Precompiled" -> {
                String map = n.path("precompiled_charsmap").asText("");
                if (map.isEmpty()) yield null;
                throw fail("the Precompiled normalizer (SentencePiece charsmap) is not supported yet");
            }
            default -> throw fail("unsupported normalizer type '" + type + "'");
        };
    }

    private Replace replace(JsonNode n) {
        JsonNode p = n.path("pattern");
        String content = n.path("content").asText();
        if (p.has("String")) return new Replace(p.get("String").asText(), null, content);
        if (p.has("Regex")) {
            try {
                return new Replace(null, Pattern.compile(RegexPattern.translate(p.get("Regex").asText()),
                        Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE), content);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw fail("invalid Replace regex: " + e.getDescription());
            }
        }
        throw fail("Replace without a String or Regex pattern");
    }

    // ---- pre-tokenizers ----

    private PreTokenizer preTokenizer(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        try {
            return switch (type) {
                case "Split" -> new Split(splitPattern(n.path("pattern")), Behavior.parse(n.path("behavior").asText("Isolated")),
                        n.path("invert").asBoolean(false));
                case "ByteLevel" -> new ByteLevel(n.path("add_prefix_space").asBoolean(true), n.path("use_regex").asBoolean(true));
                case "Metaspace" -> new Metaspace(replacement(n), prependScheme(n), n.path("split").asBoolean(true));
                case "Whitespace" -> WordPieceSplits.whitespace();
                case "WhitespaceSplit" -> WordPieceSplits.whitespaceSplit();
                case "Punctuation" -> WordPieceSplits.punctuation(Behavior.parse(n.path("behavior").asText("Isolated")));
                case "Digits" -> WordPieceSplits.digits(n.path("individual_digits").asBoolean(false));
                case "BertPreTokenizer" -> WordPieceSplits.bert();
                case "CharDelimiterSplit" -> WordPieceSplits.charDelimiter(n.path("delimiter").asText(" ").codePointAt(0));
                case "Sequence" -> {
                    List<PreTokenizer> steps = new ArrayList<>();
                    for (JsonNode x : n.path("pretokenizers")) { PreTokenizer s = preTokenizer(x); if (s != null) steps.add(s); }
                    yield new jllm.tokenizer.pretokenizer.Sequence(steps);
                }
                default -> throw fail("unsupported pre-tokenizer type '" + type + "'");
            };
        } catch (FormatException e) {
            throw e.getMessage().startsWith(src) ? e : fail(e.getMessage());
        }
    }

    private SplitPattern splitPattern(JsonNode p) {
        if (p.has("String")) return new LiteralPattern(p.get("String").asText());
        if (p.has("Regex")) {
            String re = p.get("Regex").asText();
            SplitPattern fast = KnownPatterns.scannerFor(re);
            return fast != null ? fast : new RegexPattern(re);
        }
        throw fail("Split without a String or Regex pattern");
    }

    private static char replacement(JsonNode n) {
        String r = n.path("replacement").asText("\u2581");
        return r.isEmpty() ? '\u2581' : r.charAt(0);
    }

    private Metaspace.Prepend prependScheme(JsonNode n) {
        if (n.has("prepend_scheme")) {
            return switch (n.get("prepend_scheme").asText()) {
                case "always" -> Metaspace.Prepend.ALWAYS;
                case "first" -> Metaspace.Prepend.FIRST;
                case "never" -> Metaspace.Prepend.NEVER;
                default -> throw fail("unknown Metaspace prepend_scheme '" + n.get("prepend_scheme").asText() + "'");
            };
        }
        return n.path("add_prefix_space").asBoolean(true) ? Metaspace.Prepend.ALWAYS : Metaspace.Prepend.NEVER;
    }

    // ---- post-processors ----

    private PostProcessor postProcessor(JsonNode n, List<AddedToken> added) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "TemplateProcessing" -> {
                JsonNode specials = n.path("special_tokens");
                List<int[]> items = new ArrayList<>();
                for (JsonNode it : n.path("single")) {
                    if (it.has("Sequence")) items.add(TemplateProcessing.SEQUENCE);
                    else if (it.has("SpecialToken")) {
                        String id = it.get("SpecialToken").path("id").asText();
                        JsonNode st = specials.get(id);
                        if (st == null) throw fail("TemplateProcessing uses undefined special token '" + id + "'");
                        int[] ids = new int[st.path("ids").size()];
                        for (int i = 0; i < ids.length; i++) {
                            ids[i] = st.path("ids").get(i).asInt(-1);
                            if (ids[i] < 0 || ids[i] > Vocab.MAX_ID) throw fail(Vocab.outOfRange("TemplateProcessing special token '" + id + "'", ids[i]));
                        }
                        items.add(ids);
                    } else throw fail("unknown TemplateProcessing item " + it);
                }
                yield new TemplateProcessing(items.toArray(new int[0][]));
            }
            case "BertProcessing", "RobertaProcessing" -> {
                int cls = n.path("cls").get(1).asInt(), sep = n.path("sep").get(1).asInt();
                yield new TemplateProcessing(new int[][] {{cls}, TemplateProcessing.SEQUENCE, {sep}});
            }
            case "ByteLevel" -> null;
            case "Sequence" -> {
                List<PostProcessor> steps = new ArrayList<>();
                for (JsonNode x : n.path("processors")) { PostProcessor p = postProcessor(x, added); if (p != null) steps.add(p); }
                yield new ProcessorSequence(steps);
            }
            default -> throw fail("unsupported post-processor type '" + type + "'");
        };
    }

    // ---- decoders ----

    private Decoder decoder(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new ByteLevelDecoder();
            case "Metaspace" -> new MetaspaceDecoder(replacement(n), prependScheme(n) != Metaspace.Prepend.NEVER);
            case "ByteFallback" -> new ByteFallbackDecoder();
            case "Fuse" -> new Fuse();
            case "Strip" -> new StripDecoder(n.path("content").asText(" ").charAt(0), n.path("start").asInt(0), n.path("stop").asInt(0));
            case "Replace" -> new ReplaceDecoder(replace(n));
            case "WordPiece" -> new WordPieceDecoder(n.path("prefix").asText("##"), n.path("cleanup").asBoolean(true));
            case "Sequence" -> {
                List<Decoder> steps = new ArrayList<>();
                for (JsonNode x : n.path("decoders")) { Decoder d = decoder(x); if (d != null) steps.add(d); }
                yield new DecoderSequence(steps);
            }
            default -> throw fail("unsupported decoder type '" + type + "'");
        };
    }
}
