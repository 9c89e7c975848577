/**
 * Fine-tuning datasets: from a file to packed, label-masked token rows, and the prompt format that
 * lets {@code predict} and exports reproduce training's prompts.
 *
 * <ul>
 *   <li>{@link jllm.train.data.DatasetReader}: JSONL, JSON arrays, CSV/TSV (RFC 4180), strict UTF-8;
 *       every problem named with file and line.</li>
 *   <li>{@link jllm.train.data.RowFormatter}: the shapes ({@code text}, Alpaca, prompt/completion,
 *       {@code messages}, ShareGPT, table rows through a {@link jllm.train.data.PromptTemplate}) as
 *       conversations; the same code builds training examples and prediction prompts.</li>
 *   <li>{@link jllm.train.data.ExampleEncoder}: chat template (or the plain format) to token ids and
 *       labels, loss on responses only by default, BOS never doubled.</li>
 *   <li>{@link jllm.train.data.TrainingData}: the whole pipeline with its policies (skipped rows, too-long
 *       examples, validation split), {@link jllm.train.data.Packer} and {@link jllm.train.data.PackedRow}
 *       (segment ids and per-example positions for attention that stops at example boundaries).</li>
 *   <li>{@link jllm.train.data.PromptFormat}: what is recorded in the adapter;
 *       {@link jllm.train.data.PredictionInputs} and {@link jllm.train.data.ExactMatch} for {@code predict}.</li>
 *   <li>{@link jllm.train.data.ChatShape}: a chat template's per-role structure, discovered by rendering
 *       (used for response spans when prefix renderings do not line up, and for Ollama export).</li>
 * </ul>
 */
package jllm.train.data;
