package jllm.tokenizer;
