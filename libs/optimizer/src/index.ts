// @lwz/optimizer: AdamW with exact save/restore, learning-rate schedules by name, global-norm clipping,
// gradient accumulation. The RL maths (advantages, policy losses) arrives with the GRPO trainer.
export { AdamW, DEFAULT_ADAMW, type AdamWOptions, type AdamWState, type NamedParam } from './adamw';
export { makeSchedule, registerSchedule, scheduleNames, type Schedule, type ScheduleOptions } from './schedules';
export { clipGradNorm, type ClipResult } from './clip';
export { GradientAccumulator, type AccumulationNorm } from './accumulate';
