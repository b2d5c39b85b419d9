// @lwz/export: model export (issue #6): GGUF for llama.cpp and ONNX for onnxruntime, from a Hugging Face
// checkpoint directory or from in-memory weights; the GGUF reader and ONNX encoder the tests check them with;
// and an onnxruntime runner (worker thread) for exported models. Its own lib so @lwz/model never loads protobufjs.
export {
  exportCheckpoint,
  EXPORT_FORMATS,
  ONNX_INLINE_LIMIT,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
} from './export-checkpoint';
export { buildGguf, ggufArchitecture, type GgufExportOptions, type GgufSpecialIds } from './gguf-export';
export { ggufChunks, gguf, GgufType, GgmlType, GGUF_VERSION, type GgufTensor, type GgufValue } from './gguf-writer';
export { parseGguf, readGguf, ggufTensorValues, f16ToF32, type GgufFile, type GgufReadTensor, type GgufReadValue } from './gguf-reader';
export { buildDecoderOnnx, ONNX_VARIANTS, type OnnxVariant } from './onnx-decoder';
export { OnnxGraph, type Attr, type SerializedOnnx } from './onnx-graph';
export { encodeModel, decodeModel, OnnxDataType, ONNX_OPSET, ONNX_IR_VERSION } from './onnx-proto';
export { vocabFromTokenizerJson, TokenType, type GgufVocab } from './tokenizer-vocab';
export { f32ToF16Bits, permuteRotaryRows } from './tensor-convert';
export { checkExportWeights, checkExportDtype, EXPORT_DTYPES, type ExportDtype, type ExportWeights } from './weights-check';
export { OrtWorker, type OrtFeed, type OrtOutputs } from './ort-worker';
