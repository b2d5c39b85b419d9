// Stopping a run whose numbers stopped being numbers, for every trainer (pretraining, GRPO, reward model). A NaN
// or infinite loss means the forward pass itself is broken (non-finite or huge weights: a corrupt start
// checkpoint, or a learning rate that blew them up): no later step can recover, so the run stops at once, before
// that step's metrics and checkpoint. A non-finite gradient norm alone is skipped by the trainers (one overflow
// costs one update, as in verl); only when no update could be taken for MAX_SKIPPED_STEPS_IN_A_ROW steps does the
// run stop. RunDir.saveCheckpoint refuses weights holding inf or NaN (firstNonFiniteTensor), so none is written.
import { UserError } from '@lwz/core';
import { globalNorm, type Tensor } from '@lwz/kernels';
import { listCheckpoints } from './checkpoint-files';

/** Steps in a row whose every update was skipped (non-finite gradient norm) before the run stops. */
export const MAX_SKIPPED_STEPS_IN_A_ROW = 3;

export interface FiniteGuardOptions {
  /** the command, as the user ran it: 'lwz-train pretrain', 'lwz-train train', 'lwz-train train-rm' */
  what: string;
  /** the run directory: its checkpoints are named as kept */
  runDir: string;
  /** the checkpoint the weights came from (the start or the resumed one), or null for a random init */
  start: string | null;
  /** the config key of the learning rate, for the fix (`--set <key>=...`) */
  lrKey: string;
}

export interface StepNumbers {
  /** the step just run, counted as the metrics count it (1 = the first update) */
  step: number;
  loss: number;
  gradNorm: number;
  /** the learning rate of this step */
  lr: number;
  /** every update of this step was skipped: its gradient norm was not finite */
  skipped: boolean;
}

/** What the message suggests: where the weights came from, and the learning rate. */
function likelyCauses(o: FiniteGuardOptions, lr: number): string {
  const weights = o.start
    ? `non-finite or huge weights in ${o.start} (a corrupt or overwritten file: restore it, or start from another checkpoint)`
    : 'weights grown out of range';
  return `Likely causes: ${weights}, or a learning rate too high for this model (${lr} at this step: lower it with --set ${o.lrKey}=...)`;
}

/** Which checkpoints a stopped run leaves as they were. */
export function checkpointsKept(runDir: string): string {
  const newest = listCheckpoints(runDir).at(-1);
  return newest ? `the checkpoints in ${runDir} are kept (newest: step ${newest.step})` : `${runDir} holds no checkpoint yet`;
}

export class FiniteGuard {
  private skippedInARow = 0;

  constructor(private readonly o: FiniteGuardOptions) {}

  /**
   * After a step's update, before its metrics and checkpoint: a UserError (exit 1, no stack trace) when the loss is
   * not finite, or when this is the MAX_SKIPPED_STEPS_IN_A_ROW-th step in a row whose every update was skipped.
   */
  check(s: StepNumbers): void {
    this.skippedInARow = s.skipped ? this.skippedInARow + 1 : 0;
    let what: string | null = null;
    if (!Number.isFinite(s.loss)) what = `the loss is ${s.loss} (gradient norm ${s.gradNorm})`;
    else if (this.skippedInARow >= MAX_SKIPPED_STEPS_IN_A_ROW)
      what = `the gradient norm has not been finite for ${this.skippedInARow} steps in a row (now ${s.gradNorm}), so no update was taken since step ${s.step - this.skippedInARow}`;
    if (what === null) return;
    throw new UserError(
      `${this.o.what} step ${s.step}: ${what}. Stopped before this step's metrics and checkpoint: ${checkpointsKept(this.o.runDir)}. ${likelyCauses(this.o, s.lr)}`,
    );
  }
}

/** The name of the first tensor holding a non-finite value, or null: one norm over all of them when all are finite. */
export function firstNonFiniteTensor(params: readonly { name: string; value: Tensor }[]): string | null {
  if (Number.isFinite(globalNorm(params.map((p) => p.value)))) return null;
  return params.find((p) => !Number.isFinite(globalNorm([p.value])))?.name ?? null;
}
