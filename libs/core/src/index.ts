// @lwz/core: utilities every other project builds on. No numerics beyond the RNG, no I/O beyond files.
export { Rng, splitmix32, hashString, type RngState } from './rng';
export { UserError, isUserError, redactSecrets } from './errors';
export { runCli } from './cli';
export {
  writeFileAtomic,
  writeJsonAtomic,
  writeDirAtomic,
  checkDirOutput,
  checkFileOutput,
  pathKind,
  ensureDir,
  storageError,
} from './atomic';
export { refuseDanglingLink } from './links';
export { lockOutput, takeLock, type LockOptions } from './lock';
export { codePoints, decodeUtf8Strict, firstInvalidUtf8, readFileBytes, readTextFile, utf8Sequence, type ReadFileNaming } from './utf8';
export { readJsonl, parseJsonl, writeJsonl, writeJsonlPlain, appendJsonl, formatJsonl, jsonlChunks, type JsonlRow } from './jsonl';
export {
  z,
  parseConfig,
  readConfigFile,
  mergeConfig,
  parseOverrides,
  coercedNumberIssues,
  flagName,
  pathFlag,
  type ParseConfigOptions,
} from './config';
export { Progress, type ProgressOptions } from './progress';
export { createRegistry, type Registry } from './registry';
export { balancedObjectEnd, findLastJsonObject, replyAnswer, type FoundJsonObject } from './json-scan';
