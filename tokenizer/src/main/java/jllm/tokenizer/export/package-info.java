/** Writing jllm tokenizers back out in other formats (GGUF tokenizer metadata). */
package jllm.tokenizer.export;
