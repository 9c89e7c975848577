/**
 * Training and fine-tuning: the backward passes of the shared decoder, losses, LoRA/QLoRA, optimisers,
 * datasets and the adapters and checkpoints a run writes. Sits above {@code generate} (it trains the
 * models that module runs) and below {@code doctor} and {@code cli}.
 */
package jllm.train;
