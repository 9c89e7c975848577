/**
 * Learning BPE tokenizers from text ({@code jllm tokenizer train}): {@link jllm.tokenizer.train.TokenizerTrainer}
 * (byte-level or byte-fallback), {@link jllm.tokenizer.train.PairMerger} (the merge loop with incremental
 * pair counts), {@link jllm.tokenizer.train.TrainedTokenizer} (tokenizer.json + tokenizer_config.json).
 */
package jllm.tokenizer.train;
