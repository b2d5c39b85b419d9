// `lwz-train train [--preset NAME | --config FILE] [--out DIR] [--init CKPT] [--prompts F.jsonl]
// [--judge-url URL --judge-model NAME [--judge-key-env VAR]] [--rollout-url URL [--rollout-model NAME]]
// [--set key=value ...]`: GRPO (the paper's RL stage). Rerunning the same command resumes from the newest
// complete checkpoint. When the run is complete, the start checkpoint and the RL checkpoint answer the
// held-out generated prompts and the report gets the before/after table. The Nx target `trainer:train` runs the embedded default after pretraining.
import type { Command } from 'commander';
import { join } from 'node:path';
import { UserError, parseOverrides, readJsonl, writeJsonAtomic } from '@lwz/core';
import { maskSecrets } from '@lwz/llm-client';
import { createRewardDeps } from '@lwz/rewards';
import { grpoConfigNotes, resolveGrpoConfig, presetNames, type GrpoConfig } from '../grpo/config';
import { evaluateHeldout, heldoutFile } from '../grpo/evaluate';
import { pairedSlDifference, trend, writeGrpoReport, type HeldoutComparison, type HeldoutSide } from '../grpo/report';
import { runGrpo, type GrpoResult } from '../grpo/run';

export interface TrainCliOptions {
  preset?: string;
  config?: string;
  out?: string;
  init?: string;
  prompts?: string;
  judgeUrl?: string;
  judgeModel?: string;
  judgeKeyEnv?: string;
  rolloutUrl?: string[];
  rolloutModel?: string;
  set: string[];
}

export function resolve(o: TrainCliOptions): GrpoConfig {
  const overrides = parseOverrides(o.set);
  // '' too (an unset shell variable): the config check names it, instead of the preset's value running silently
  if (o.out !== undefined) overrides.out = o.out;
  if (o.init !== undefined) overrides.model = { ...((overrides.model as object) ?? {}), init: o.init };
  if (o.prompts !== undefined) overrides.prompts = { ...((overrides.prompts as object) ?? {}), file: o.prompts };
  if (o.rolloutUrl?.length) {
    const rollout = (overrides.rollout as Record<string, unknown>) ?? {};
    overrides.rollout = { ...rollout, url: o.rolloutUrl, ...(o.rolloutModel ? { model: o.rolloutModel } : {}) };
  }
  if (o.judgeUrl || o.judgeModel) {
    if (!o.judgeUrl || !o.judgeModel)
      throw new UserError('--judge-url and --judge-model go together (and --judge-key-env VAR names the API key variable)');
    const rewards = (overrides.rewards as Record<string, unknown>) ?? {};
    // --set rewards.quality.options.* (a timeout, a concurrency) joins the flags' options instead of being dropped
    const quality = (rewards.quality as { scorer?: unknown; options?: Record<string, unknown> } | undefined) ?? {};
    if (quality.scorer !== undefined && quality.scorer !== 'chat-judge')
      throw new UserError(
        `--judge-url makes the quality scorer chat-judge; --set rewards.quality.scorer=${String(quality.scorer)} asks for another: give one or the other`,
      );
    rewards.quality = {
      scorer: 'chat-judge',
      options: { ...quality.options, baseUrls: [o.judgeUrl], model: o.judgeModel, ...(o.judgeKeyEnv ? { apiKeyEnv: o.judgeKeyEnv } : {}) },
    };
    overrides.rewards = rewards;
  }
  return resolveGrpoConfig({ preset: o.preset, config: o.config, overrides });
}

export interface TrainResult extends GrpoResult {
  heldout: HeldoutComparison | null;
}

export async function run(o: TrainCliOptions, hooks: Parameters<typeof runGrpo>[1] = {}): Promise<TrainResult> {
  const cfg = resolve(o);
  // printed before the scorers check their options: a key given as a variable name, or a URL password, is masked
  process.stderr.write(`resolved config:\n${JSON.stringify(maskSecrets(cfg), null, 2)}\n`);
  for (const note of grpoConfigNotes(cfg)) process.stderr.write(`note: ${note}\n`);
  const result = await runGrpo(cfg, hooks);
  let heldout: HeldoutComparison | null = null;
  if (result.finalCheckpoint && cfg.evaluation.prompts > 0) {
    const prompts = result.prompts.heldout.slice(0, cfg.evaluation.prompts);
    const sides: HeldoutSide[] = [];
    // one set of scorers for both sides: a reward model is fingerprinted and loaded once, not per side
    const deps = createRewardDeps(cfg.rewards);
    if (result.initDir) sides.push(await evaluateHeldout(cfg, result.initDir, 'base', prompts, heldoutFile(cfg, 'base'), deps));
    sides.push(await evaluateHeldout(cfg, result.finalCheckpoint, 'rl', prompts, heldoutFile(cfg, 'rl'), deps));
    heldout = { prompts: prompts.length, sides };
    writeGrpoReport(cfg, join(cfg.out, 'metrics.jsonl'), result.prompts.origin, heldout);
    const rows = readJsonl<Record<string, unknown>>(join(cfg.out, 'metrics.jsonl')).map((r) => r.value);
    const d = pairedSlDifference(heldout);
    writeJsonAtomic(join(cfg.out, 'summary.json'), {
      steps: result.steps,
      finalCheckpoint: result.finalCheckpoint,
      heldout,
      heldoutPairedSl: d,
      trend: trend(rows),
    });
    for (const s of sides)
      process.stderr.write(
        `held-out ${s.label}: S_l ${s.sl.toFixed(1)} [${s.slLow.toFixed(1)}, ${s.slHigh.toFixed(1)}], format valid ${(100 * s.formatValid).toFixed(0)} %, length reward ${s.lengthReward.toFixed(3)}, ${s.answerWords.toFixed(0)} words\n`,
      );
    if (d)
      process.stderr.write(
        `held-out ${d.to} - ${d.from}, paired over ${heldout.prompts} prompts: S_l ${d.mean.toFixed(1)} [${d.low.toFixed(1)}, ${d.high.toFixed(1)}] (95 % bootstrap)\n`,
      );
  }
  return { ...result, heldout };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('train')
    .description('GRPO with the length, format and quality rewards; resumes from the last checkpoint in --out')
    .option('--preset <name>', `preset: ${presetNames().join(', ')} (default: tiny)`)
    .option('--config <file>', 'a config file instead of a preset')
    .option('--out <dir>', 'run directory (overrides the config)')
    .option('--init <dir>', 'start checkpoint, or a run directory (its newest checkpoint)')
    .option('--prompts <file>', 'training prompts (LongBench-Write, WritingBench, Arena-Write, generated, or {prompt} JSONL)')
    .option('--judge-url <url>', 'quality reward from an OpenAI-compatible chat judge at this base URL (up to /v1)')
    .option('--judge-model <name>', 'the judge model name')
    .option('--judge-key-env <var>', 'environment variable holding the judge API key (never logged)')
    .option(
      '--rollout-url <url>',
      'generate on an OpenAI-compatible server at this base URL (up to /v1, as `lwz-train serve` prints it; repeat for several); set rollout.syncCommand to reload weights',
      collect,
    )
    .option('--rollout-model <name>', 'model name for --rollout-url (default: the first /v1/models entry)')
    .option('--set <key=value...>', 'config overrides, e.g. --set steps=20 rollout.n=4', [])
    .action(async (o: TrainCliOptions) => {
      const r = await run(o);
      console.error(`train: ${r.steps} steps in ${r.runDir}${r.finalCheckpoint ? `; final checkpoint ${r.finalCheckpoint}` : ''}`);
    });
}
