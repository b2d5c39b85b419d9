// Learning-rate schedules as small pure functions of the step, registered by name: `constant`,
// `cosine` (linear warmup, then cosine decay to a floor) and `linear` (linear warmup, then linear decay to
// the floor). Steps are 0-based: lr(step) is the rate for the update that makes the step-th change.
// Warmup: lr = peak * (step + 1) / warmupSteps for step < warmupSteps (never 0 on the first update).
import { createRegistry, z } from '@lwz/core';

export interface ScheduleOptions {
  /** the peak learning rate (after warmup) */
  lr: number;
  warmupSteps: number;
  /** total updates; decay reaches the floor at step totalSteps - 1 and stays there after */
  totalSteps: number;
  /** floor = minLrRatio * lr */
  minLrRatio: number;
}

export type Schedule = (step: number) => number;
type ScheduleFactory = (o: ScheduleOptions) => Schedule;

function warmup(o: ScheduleOptions, step: number): number | null {
  return step < o.warmupSteps ? (o.lr * (step + 1)) / o.warmupSteps : null;
}

/**
 * Fraction of the decay phase done at `step`, in [0, 1]. With no room to decay (one update after warmup, or none)
 * that update takes the peak, as transformers' schedules do; the floor would skip the peak altogether.
 */
function decayProgress(o: ScheduleOptions, step: number): number {
  const span = o.totalSteps - 1 - o.warmupSteps;
  if (span <= 0) return 0;
  return Math.min(1, Math.max(0, (step - o.warmupSteps) / span));
}

const BUILT_IN: [string, ScheduleFactory][] = [
  ['constant', (o) => (step) => warmup(o, step) ?? o.lr],
  [
    'cosine',
    (o) => (step) => {
      const w = warmup(o, step);
      if (w !== null) return w;
      const floor = o.minLrRatio * o.lr;
      return floor + (o.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * decayProgress(o, step)));
    },
  ],
  [
    'linear',
    (o) => (step) => {
      const w = warmup(o, step);
      if (w !== null) return w;
      const floor = o.minLrRatio * o.lr;
      return o.lr + (floor - o.lr) * decayProgress(o, step);
    },
  ],
];
const registry = createRegistry<ScheduleFactory>('learning-rate schedule');
for (const [name, factory] of BUILT_IN) registry.register(name, factory);

export function scheduleNames(): string[] {
  return registry.names();
}

/**
 * A config field naming a registered schedule: a misspelt name fails the config check (naming the field and the
 * known names) before a run starts, not at the trainer's first use of it after the run directory is made.
 */
export const scheduleNameSchema = z.string().superRefine((name, ctx) => {
  if (!registry.names().includes(name))
    ctx.addIssue({ code: 'custom', message: `unknown learning-rate schedule "${name}" (known: ${registry.names().join(', ')})` });
});

/** Register another schedule (names are unique). */
export function registerSchedule(name: string, factory: ScheduleFactory): void {
  registry.register(name, factory);
}

/** The schedule `name` with its options checked; unknown names list the valid ones. */
export function makeSchedule(name: string, options: ScheduleOptions): Schedule {
  const factory = registry.get(name);
  const { lr, warmupSteps, totalSteps, minLrRatio } = options;
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`schedule: lr must be finite and >= 0, got ${lr}`);
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 0))
    throw new Error(`schedule: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1))
    throw new Error(`schedule: totalSteps must be an integer >= 1, got ${totalSteps}`);
  if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new Error(`schedule: minLrRatio must be in [0, 1], got ${minLrRatio}`);
  const schedule = factory(options);
  return (step) => {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`schedule: step must be an integer >= 0, got ${step}`);
    return schedule(step);
  };
}
