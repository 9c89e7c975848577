package jllm.tokenizer.load;

import jllm.formats.FormatException;
import jllm.tokenizer.pretokenizer.Behavior;
import jllm.tokenizer.pretokenizer.KnownPatterns;
import jllm.tokenizer.pretokenizer.PreTokenizer;
import jllm.tokenizer.pretokenizer.RegexPattern;
import jllm.tokenizer.pretokenizer.Sequence;
import jllm.tokenizer.pretokenizer.Split;
import jllm.tokenizer.pretokenizer.SplitPattern;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The byte-level BPE pre-tokenizers that llama.cpp selects by {@code tokenizer.ggml.pre}. llama.cpp
 * applies its regexes one after another, each splitting the pieces of the previous one and keeping
 * unmatched text as pieces of its own (tokenizers' Isolated behaviour). Where llama.cpp rewrote a
 * model's regex only to suit its own engine (lookahead tricks for \p{Lu}...), the original regex is
 * used here since java.util.regex supports it.
 */
final class LlamaCppPreTypes {
    private LlamaCppPreTypes() {}

    // Code points with singleton canonical decompositions (U+1FD3, U+1FDB, U+1F7D, U+1FBE, U+2126, U+212A)
    // are escaped so that no editor or tool normalizing this file to NFC can silently change the ranges.
    private static final String DEEPSEEK_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝ\u1F5F-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌ\u1FD0-\u1FD3\u1FD6-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\uD801\uDC00-\uD801\uDC4F\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801\uDCFB\uD803\uDC80-\uD803\uDCB2\uD803\uDCC0-\uD803\uDCF2\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-\uD83A\uDD43]+";
    private static final String CJK = "[一-龥ࠀ-一가-퟿]+";
    private static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String DEEPSEEK3 = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String PORO = " ?[^(\\s|.,!?…。，、।۔،)]+";

    /** Pre types whose llama.cpp vocabulary sets ignore_merges (whole-word lookup first). */
    static final Set<String> IGNORE_MERGES = Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
            "midm-2.0", "lfm2", "tekken");

    /** Pre types for which llama.cpp adds BOS by default (other BPE vocabularies do not). */
    static final Set<String> ADD_BOS = Set.of("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "dbrx",
            "smaug-bpe", "deepseek-llm", "deepseek-coder", "deepseek-v3", "tekken", "chameleon");

    static List<String> regexes(String pre) {
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                 "dbrx", "smaug-bpe", "chatglm-bpe" -> List.of(KnownPatterns.LLAMA3_LLAMACPP);
            case "deepseek-llm" -> List.of("[\r\n]", DEEPSEEK_LETTERS, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", CJK, "\\p{N}+");
            case "deepseek-v3", "hunyuan-dense" -> List.of("\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", DEEPSEEK3);
            case "deepseek-coder" -> List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}");
            case "falcon" -> List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", KnownPatterns.GPT2_LLAMACPP, "[0-9][0-9][0-9]");
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" ->
                    List.of("\\p{N}", KnownPatterns.GPT2_LLAMACPP);
            case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
                 "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "granite-docling" ->
                    List.of(KnownPatterns.GPT2_LLAMACPP);
            case "stablelm2", "qwen2", "deepseek-r1-qwen", "megrez", "hunyuan", "grok-2" -> List.of(KnownPatterns.QWEN2_LLAMACPP);
            case "poro-chat", "bloom", "gpt3-finnish" -> List.of(PORO);
            case "viking" -> List.of(PORO, "\\p{N}");
            case "tekken" -> List.of(TEKKEN);
            case "chameleon" -> List.of("<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
                    "\\p{N}", "[\\p{P}!-/:-@\\[-`{-~]", KnownPatterns.GPT2_LLAMACPP);
            case "gpt-4o", "minimax-m2" -> List.of(GPT4O);
            case "seed-coder" -> List.of("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
            case "bailingmoe", "llada-moe" -> List.of("'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+");
            case "default" -> List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", KnownPatterns.GPT2_LLAMACPP, "\\p{N}+", "[0-9][0-9][0-9]");
            default -> throw new FormatException("unsupported tokenizer.ggml.pre '" + pre + "' for a gpt2 (BPE) vocabulary");
        };
    }

    static PreTokenizer splitter(String pre) {
        List<PreTokenizer> steps = new ArrayList<>();
        for (String re : regexes(pre)) {
            SplitPattern p = KnownPatterns.scannerFor(re);
            steps.add(new Split(p != null ? p : new RegexPattern(re), Behavior.ISOLATED, false));
        }
        return steps.size() == 1 ? steps.get(0) : new Sequence(steps);
    }
}
