/** LoRA adapters in PEFT's file layout ({@link jllm.train.peft.PeftAdapter}). */
package jllm.train.peft;
