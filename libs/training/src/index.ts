// @lwz/training: the run directory every trainer shares (pretraining, GRPO, reward-model training): config
// check, resume point, metrics.jsonl, atomic checkpoints with RNG and trainer state, keep-last-K.
export { RunDir, type RunDirOptions, type ResumePoint, type CheckpointInput, type CheckpointableOptimizer } from './run-dir';
export {
  listCheckpoints,
  checkpointDir,
  TRAINER_STATE_FILE,
  OPTIMIZER_FILE,
  TENSORS_FILE,
  TRAINER_STATE_FORMAT,
  type CheckpointRef,
  type TrainerStateFile,
} from './checkpoint-files';
export { readMetrics, truncateMetrics, type MetricsRow, type MetricValue } from './metrics';
export { configDifferences } from './config-check';
export { FiniteGuard, firstNonFiniteTensor, MAX_SKIPPED_STEPS_IN_A_ROW, type FiniteGuardOptions, type StepNumbers } from './finite-guard';
