import { gguf } from "@huggingface/gguf";
const path = process.argv[2];
const { metadata, tensorInfos, tensorDataOffset } = await gguf(path, { allowLocalFile: true });
console.log(JSON.stringify({ arch: metadata["general.architecture"], version: metadata.version, tensors: tensorInfos.length, kv: metadata.kv_count?.toString(), dataOffset: tensorDataOffset.toString(),
  first: tensorInfos.slice(0,3).map(t => [t.name, t.shape.map(String), t.dtype, t.offset.toString()]) }));
