/**
 * What goes beside an exported GGUF: the Ollama {@link jllm.train.export.Modelfile} (TEMPLATE translated
 * from the Jinja chat template by {@link jllm.train.export.OllamaTemplate} and checked with
 * {@link jllm.train.export.GoTemplate}), and {@link jllm.train.export.TemplateBos} for the chat template
 * stored in the GGUF.
 */
package jllm.train.export;
