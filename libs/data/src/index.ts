// @lwz/data: corpora (embedded npm corpora + users' files, cleaned and split by document), prompt sets
// (loaders for the public benchmarks' JSONL and the writing-prompt generator), and packed token shards
// with deterministic, resumable (B, T+1) batches. The commands behind the Nx targets are in apps/trainer
// (`lwz-train data corpus|prepare|prompts`, `lwz-train train-tokenizer`).
export { cleanText, stripGutenberg } from './corpus/clean';
export { type CorpusDocument, type CorpusSplit, type SplitOptions, splitDocuments, assertUniqueIds } from './corpus/document';
export {
  BUILTIN_CORPORA,
  type BuiltinCorpus,
  loadBuiltinCorpus,
  loadSotu,
  loadMobyDick,
  builtinCorpusVersion,
  findPackageDir,
} from './corpus/builtin';
export { loadUserCorpus, isCorpusFileName } from './corpus/user';
export {
  type CorpusOptions,
  type CorpusManifest,
  type SplitStats,
  DEFAULT_CORPUS_OPTIONS,
  buildCorpus,
  writeCorpus,
  readCorpusSplit,
  isCorpusDir,
} from './corpus/build';
export { PROMPT_FORMATS, type PromptFormat, type PromptRow, type PromptSet, type Criterion } from './prompts/types';
export { loadPromptFile, parsePromptSet, detectPromptFormat } from './prompts/loaders';
export { GENRES, TOPICS, LENGTH_FORMS, TEMPLATES, type Genre, type Theme, type LengthForm } from './prompts/catalog';
export {
  type WritingPromptRow,
  type LengthBudget,
  type GeneratorOptions,
  type TopicSplit,
  DEFAULT_LENGTH_BUDGET,
  DEFAULT_GENERATOR_OPTIONS,
  generateWritingPrompts,
  maxAnswerWords,
  drawLength,
  niceRound,
  rangeCentre,
  splitTopics,
} from './prompts/generator';
export {
  type ShardIndex,
  type ShardDoc,
  type ShardDType,
  type ShardSplitIndex,
  type PackInput,
  type ShardWriteInput,
  packSplit,
  writeShards,
  readShardIndex,
  readShardTokens,
  checkTokenizerHash,
} from './shards/format';
export {
  EMBEDDED_LENGTH_BUDGET,
  DEFAULT_FORMAT_SAMPLES,
  buildFormatSamples,
  formatCompletion,
  splitSentences,
  documentSentences,
  type SentenceSource,
  samplePassage,
  type FormatSample,
  type FormatSampleOptions,
} from './shards/format-samples';
export { prepareShards, tokenizerFileHash, documentText, type PrepareOptions, type FormatSampleReport } from './shards/prepare';
export { WindowSampler, sequentialBatches, spreadBatches, type WindowBatch } from './shards/batches';
