// @lwz/model: the Qwen2-architecture decoder (policy, reference and built-in reward model): Hugging Face
// config.json and safetensors I/O, forward log-probs, value-head scores (reward model), backward, KV-cache
// decoding, LoRA, presets.
export {
  parseHfConfig,
  toHfConfig,
  parameterCount,
  endOfSequenceIds,
  parseGenerationEos,
  modelOverridesSchema,
  checkModelShape,
  type ModelConfig,
} from './config';
export { MODEL_PRESETS, modelPreset } from './presets';
export {
  readSafetensorsHeader,
  readEntryInto,
  writeSafetensors,
  type StDtype,
  type StEntry,
  type StHeader,
  type StTensor,
} from './safetensors';
export { openWeights, writeWeights, hasWeights, WEIGHTS_FILE, INDEX_FILE, type WeightSource, type WriteWeightsOptions } from './weights-io';
export { ParamStore, parameterSpecs, type Param, type ParamSpec, type LayerParams } from './params';
export { Qwen2Model, type LogprobBatch, type ScoreBatch, type ForwardOptions, type LoraState } from './model';
export { modelRuntimeSchema, parseModelRuntime, DEFAULT_LOGIT_BUDGET, type ModelRuntime, type ModelRuntimeInput } from './runtime';
export { KvCache, decodeStep } from './kv-cache';
export { enableLora, mergeLora, withoutAdapters, DEFAULT_LORA_TARGETS, type LoraOptions } from './lora';
export type { ProjName } from './layer';
export {
  initModel,
  loadModel,
  saveModel,
  readModelConfig,
  checkVocabCovers,
  checkCausalLm,
  checkpointInRunDir,
  isIgnorableTensor,
  addValueHead,
  type SaveOptions,
} from './checkpoint';
export { lastRows } from './value-head';
