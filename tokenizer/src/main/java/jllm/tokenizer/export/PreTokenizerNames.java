package jllm.tokenizer.export;

import java.util.Map;

/**
 * llama.cpp identifies a byte-level BPE pre-tokenizer by hashing the ids its tokenizer gives for a
 * fixed check string (convert_hf_to_gguf.py, get_vocab_base_pre). These are the published fingerprints
 * of widely used models, limited to names jllm's GGUF loader can run. Unknown fingerprints fall back
 * to matching the split regex in {@link GgufVocabWriter}.
 */
final class PreTokenizerNames {
    private PreTokenizerNames() {}

    /** llama.cpp's check text: whitespace runs, emoji sequences, digit runs, Khmer, CJK, Cyrillic, contractions. */
    static final String CHECK_TEXT = "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n"
            + "\uD83D\uDE80 (normal) \uD83D\uDE36\u200D\uD83C\uDF2B\uFE0F (multiple emojis concatenated) \u2705 \uD83E\uDD99\uD83E\uDD99 "
            + "3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 "
            + "\u1780\u17B6\u1793\u17CB\u178F\u17C2\u1796\u17B7\u179F\u17C1\u179F\u17A2\u17B6\u1785\uD83D\uDE01 "
            + "?\u6211\u60F3\u5728apple\u5DE5\u4F5C1314151\u5929\uFF5E ------======= "
            + "\u043D\u0435\u0449\u043E \u043D\u0430 \u0411\u044A\u043B\u0433\u0430\u0440\u0441\u043A\u0438 "
            + "''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, "
            + "'D you like some tea? We'Ve a'lL";

    private static final Map<String, String> BY_HASH = Map.ofEntries(
            Map.entry("0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5", "llama-bpe"),     // Meta-Llama-3-8B
            Map.entry("049ecf7629871e3041641907f3de7c733e4dbfdc736f57d882ba0b0845599754", "deepseek-llm"),  // deepseek-llm-7b-base
            Map.entry("347715f544604f9118bb75ed199f68779f423cabb20db6de6f31b908d04d7821", "deepseek-coder"),// deepseek-coder-6.7b-base
            Map.entry("8aeee3860c56296a157a1fe2fad249ec40aa59b1bb5709f4ade11c4e6fe652ed", "falcon"),        // falcon-7b
            Map.entry("9d032fcbd5501f4a38150912590928bfb36091efb5df11b8e2124b0390e3fb1e", "falcon3"),       // Falcon3-7B-Base
            Map.entry("35d91631860c815f952d711435f48d356ebac988362536bed955d43bfa436e34", "starcoder"),     // starcoder2-3b
            Map.entry("3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454", "gpt-2"),         // openai-community/gpt2
            Map.entry("32d85c31273f8019248f2559fed492d929ea28b17e51d81d3bb36fff23ca72b3", "stablelm2"),     // stablelm-2-zephyr-1_6b
            Map.entry("9c2227e4dd922002fb81bde4fc02b0483ca4f12911410dee2255e4987644e3f8", "command-r"),     // c4ai-command-r-v01
            Map.entry("e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea", "qwen2"),         // Qwen1.5-7B
            Map.entry("d4540891389ea895b53b399da6ac824becc30f2fba0e9ddbb98f92e55ca0e97c", "qwen2"),         // Qwen3-Embedding-0.6B
            // mpt-7b and OLMo-1.7 share this fingerprint; llama.cpp's checks run in order and the last match (olmo) wins.
            Map.entry("b6dc8df998e1cfbdc4eac8243701a65afe638679230920b50d6f17d81c098166", "olmo"),
            Map.entry("a8594e3edff7c29c003940395316294b2c623e09894deebbc65f33f1515df79e", "dbrx"),          // dbrx-base
            Map.entry("c136ed14d01c2745d4f60a9596ae66800e2b61fa45643e72436041855ad4089d", "smaug-bpe"),     // Smaug-Llama-3-70B
            Map.entry("63b97e4253352e6f357cc59ea5b583e3a680eaeaf2632188c2b952de2588485e", "tekken"),        // Mistral-Nemo-Base-2407
            Map.entry("855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249", "smollm"),        // SmolLM-135M
            Map.entry("fcace8b9cac38ce847670c970cd5892031a753a1ef381abd1d9af00f713da085", "phi-2"),         // microsoft/phi-2
            Map.entry("877081d19cf6996e2c4ff0e1236341e9b7bde288f5311a56a937f0afbbb3aeb5", "deepseek-v3"),   // DeepSeek-V3
            Map.entry("b3f499bb4255f8ca19fccd664443283318f2fd2414d5e0b040fbdd0cc195d6c5", "deepseek-r1-qwen"), // R1-Distill-Qwen-1.5B
            Map.entry("ccc2ef013c104be7bae2965776d611e1d7a8a2a9c547dd93a682c9a9fc80352e", "gpt-4o"),        // Xenova/gpt-4o
            Map.entry("0e9433cbbb161f89e264eb32e8e64bfe69e834973ffca5d41d3948a604a3e2a3", "pixtral"),       // pixtral-12b
            Map.entry("4e2b24cc4770243d65a2c9ec19770a72f08cffc161adbb73fcbb6b7dd45a0aae", "exaone"),        // EXAONE-3.0-7.8B
            Map.entry("d5f1dd6f980fec569fb218a81a7658ac45fc56b38c5a0adeb1c232fbe04ef5ec", "seed-coder"),    // Seed-Coder-8B-Base
            Map.entry("f4f37b6c8eb9ea29b3eac6bb8c8487c5ab7885f8d8022e67edc1c68ce8403e95", "minimax-m2"));   // MiniMax-M2

    static String byHash(String sha256Hex) {
        return BY_HASH.get(sha256Hex);
    }
}
