/**
 * Exact tokenizers. {@link jllm.tokenizer.Tokenizer#load(java.nio.file.Path)} reads Hugging Face
 * {@code tokenizer.json} (+ {@code tokenizer_config.json}, {@code generation_config.json}), GGUF
 * vocabularies ({@code tokenizer.ggml.*}, llama.cpp semantics), SentencePiece {@code .model} and
 * llama2.c {@code tokenizer.bin}.
 *
 * <p>Semantics: {@code encode(text, false)} equals Rust tokenizers' {@code encode(text,
 * add_special_tokens=False)}; {@code encode(text, true)} equals transformers' {@code tokenizer(text)}
 * (which for Llama-family tokenizer.json files rebuilds the front end with a Metaspace "first"
 * pre-tokenizer); for GGUF both follow llama.cpp with special tokens parsed, {@code true} adding
 * BOS/EOS as the metadata says. Lone surrogates are encoded as U+FFFD. Bad files raise
 * {@link jllm.formats.FormatException} with a one-line message.
 *
 * <p>Layout: {@code model} (BPE, WordPiece, Unigram, llama.cpp WordPiece), {@code normalizer},
 * {@code pretokenizer} (including hand-written scanners for the GPT-2, Llama 3 and Qwen2 split
 * regexes; other regexes run on java.util.regex after translation from Oniguruma syntax),
 * {@code processor}, {@code decoder}, {@code load} (one loader per file format).
 */
package jllm.tokenizer;
