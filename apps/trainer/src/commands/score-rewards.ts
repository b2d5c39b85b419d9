// `lwz-train score-rewards --samples F.jsonl [--config F] [--set key=value ...] --out F.jsonl`: adds to each
// line of a `sample` output (or any JSONL with prompt and response) what @lwz/rewards computes: target_range
// (and target_source, skip), answer_words, rewards {length, format, quality}, the repetition measures and the
// format verdict; prints the batch monitors. Quality comes from the config's scorer: "constant", or
// "chat-judge" (an OpenAI-compatible judge, registered by @lwz/judges). Not the trainer: no advantages are written.
import type { Command } from 'commander';
import { UserError, checkFileOutput, parseOverrides, pathKind, readConfigFile, readJsonl, writeJsonl } from '@lwz/core';
import '@lwz/judges'; // registers the "chat-judge" quality scorer and the "llm" length predictor
import {
  type RewardRow,
  type RewardsConfig,
  batchMonitors,
  checkWordRange,
  createRewardDeps,
  groupIndex,
  mergeRewardsConfig,
  parseRewardsConfig,
  scoreRewards,
} from '@lwz/rewards';

export interface ScoreRewardsOptions {
  samples: string;
  out: string;
  config?: string;
  set?: string[];
}

export interface ScoreRewardsResult {
  rows: number;
  config: RewardsConfig;
  monitors: Record<string, number>;
  /** lines whose target range is the length predictor's stand-in (`target_fallback`: it had no usable range) */
  lengthFallbacks: number;
  /** lines whose quality is the scorer's stand-in (`quality_fallback`: no usable score) */
  qualityFallbacks: number;
}

/** One input line: an object with string prompt and response; length_range and finish_reason checked when present. */
function validateLine(value: unknown): RewardRow & Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('expected a JSON object with "prompt" and "response"');
  const row = value as Record<string, unknown>;
  for (const field of ['prompt', 'response']) {
    if (typeof row[field] !== 'string')
      throw new Error(`field "${field}" must be a string, got ${row[field] === undefined ? 'nothing' : typeof row[field]}`);
  }
  if (row.length_range !== undefined && row.length_range !== null) checkWordRange(row.length_range, 'length_range');
  if (row.finish_reason !== undefined && row.finish_reason !== null && typeof row.finish_reason !== 'string') {
    throw new Error(`field "finish_reason" must be a string, got ${typeof row.finish_reason}`);
  }
  return { ...row, finish_reason: (row.finish_reason as string | null | undefined) ?? undefined } as RewardRow & Record<string, unknown>;
}

export async function run(opts: ScoreRewardsOptions): Promise<ScoreRewardsResult> {
  const raw = mergeRewardsConfig(opts.config ? readConfigFile(opts.config) : {}, parseOverrides(opts.set ?? []));
  const source = `${opts.config ?? 'defaults'}${opts.set?.length ? ' + --set' : ''}`;
  const config = parseRewardsConfig(raw, source);
  // the scorers before the samples are read: a quality scorer or length predictor with bad options is the config's
  // fault, named as such (inside the scoring it read as an error of the samples file)
  const deps = createRewardDeps(config);
  // before any scoring (a judge's calls cost time and money): --out must be a file path
  if (pathKind(opts.out) === 'dir') throw new UserError(`--out ${opts.out} is a directory: give the path of a JSONL file to write`);
  checkFileOutput(opts.out, { flag: '--out', example: 'scored.jsonl' });
  const lines = readJsonl(opts.samples, validateLine);
  if (lines.length === 0) throw new UserError(`${opts.samples}: no lines to score`);
  // a `sample` line records its template: scored under the other one, every answer would read as broken format
  for (const { line, value } of lines) {
    const sampled = (value.sampling as { template?: unknown } | undefined)?.template;
    if (typeof sampled === 'string' && sampled !== config.template)
      throw new UserError(
        `${opts.samples}:${line}: sampled with the ${sampled} template (its "sampling" field), but the rewards config (${source}) scores the ${config.template} template; add --set template=${sampled}`,
      );
  }
  let batch;
  try {
    batch = await scoreRewards(
      lines.map((l) => l.value),
      config,
      deps,
    );
  } catch (e) {
    throw new UserError(`${opts.samples}: ${(e as Error).message}`);
  }
  // samples of one prompt form a group (sample --n N writes N answers per prompt)
  const monitors = batchMonitors(batch, groupIndex(lines.map((l) => l.value.prompt)));
  writeJsonl(
    opts.out,
    lines.map((l, i) => ({ ...l.value, ...batch.rows[i] })),
  );
  // both counted from the lines' own marks, exact (a monitor's share times the line count is a float)
  const lengthFallbacks = batch.rows.filter((r) => r.target_fallback).length;
  const qualityFallbacks = batch.rows.filter((r) => r.quality_fallback).length;
  return { rows: lines.length, config, monitors, lengthFallbacks, qualityFallbacks };
}

export function register(program: Command): void {
  program
    .command('score-rewards')
    .description('add target_range, rewards {length, format, quality}, repetition measures and the format verdict to each line')
    .requiredOption('--samples <file>', 'JSONL with prompt and response per line (the output of `sample`, or any such file)')
    .requiredOption('--out <file>', 'JSONL to write (atomically): each input line plus the reward fields')
    .option('--config <file>', 'rewards config JSON (template, length, repetition, quality, combination, estimator)')
    .option('--set <key=value...>', 'config overrides, e.g. --set template=direct length.lmax.factor=3', [])
    .action(async (o: ScoreRewardsOptions) => {
      const r = await run(o);
      const keys = [
        'reward/length/mean',
        'reward/format/mean',
        'reward/quality/mean',
        'length/in_range',
        'format/broken',
        'repetition/penalty',
      ];
      const summary = keys.filter((k) => k in r.monitors).map((k) => `${k}=${r.monitors[k].toFixed(3)}`);
      process.stdout.write(`scored ${r.rows} lines -> ${o.out} (quality: ${r.config.quality.scorer})\n${summary.join('  ')}\n`);
      if (r.lengthFallbacks)
        console.error(
          `score-rewards: ${r.lengthFallbacks} of ${r.rows} lines got no usable range from the length predictor ${r.config.length.predictor.name} (every ask rejected): their target_range is the built-in predictor's ("target_fallback" marks them)`,
        );
      if (r.qualityFallbacks)
        console.error(
          `score-rewards: ${r.qualityFallbacks} of ${r.rows} answers got no usable quality score (their quality is the scorer's stand-in, 0.5; "quality_fallback" and "quality_reason" in their lines say why)`,
        );
    });
}
