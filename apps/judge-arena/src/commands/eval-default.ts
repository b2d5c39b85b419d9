// `lwz-arena eval-default [--runs DIR] [--rm DIR] [--out DIR]`: the embedded default's checkpoints (base, RL,
// and the ablations that were run) on the held-out generated prompts `lwz-train train` answered: LongBench-
// Write S_l per model (runLongBenchWrite, no judge) and an arena judged by the built-in reward model (3
// levels, `base` anchored at 1000, bootstrap intervals), through the arena command's own run(). Writes
// answers/<model>.jsonl, arena/, longbench-write/<model>/ and a summary results.json, report.md,
// report.html under --out; RM verdicts are cached under <out>/cache, so a rerun scores nothing again.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { UserError, writeJsonl, z } from '@lwz/core';
import { longBenchHtml, longBenchMarkdown, mean, runLongBenchWrite, type LongBenchResult } from '@lwz/eval';
import { parseCliOptions } from '../judge-options';
import { writeOutputs } from '../outputs';
import { rmPairwiseJudge } from '../rm-judge';
import { collectDefaultModels, type HeldoutModel } from '../default-runs';
import { defaultHtml, defaultMarkdown, leaderboardText, type DefaultSummary, type LeaderboardRow } from '../default-report';
import { run as runArena } from './arena';

export const evalDefaultOptionsSchema = z.object({
  runs: z.string().min(1).default('runs'),
  rm: z.string().min(1).optional(),
  out: z.string().min(1).default('dist/eval/default'),
  cacheDir: z.string().min(1).optional(),
  rmTieMargin: z.coerce.number().min(0, 'must be >= 0 (a score difference on the [0, 1] scale)').default(0.02),
  bootstrap: z.coerce.number().int().min(100, 'at least 100 resamples').default(200),
  seed: z.coerce.number().int().default(0),
  quiet: z.boolean().default(false),
});
export type EvalDefaultCliOptions = z.input<typeof evalDefaultOptionsSchema>;

export interface EvalDefaultResult {
  summary: DefaultSummary;
  files: string[];
}

function longBench(m: HeldoutModel, seed: number): Promise<LongBenchResult> {
  // words: the <answer> block's words as the rewards counted them, the same y grpo/evaluate.ts scored
  const answers = m.answers.map((a) => ({ id: a.id, prompt: a.prompt, required: a.required, text: a.text, words: a.answerWords }));
  return runLongBenchWrite({ answers, seed });
}

/**
 * The reward model loads (a value-head checkpoint, not a run directory or a plain LM) before anything is written: a
 * failing arena step would otherwise leave answers/ and longbench-write/ newer than the summary beside them. Returns
 * the scorer's id (its weights' fingerprint).
 */
async function probeRmJudge(rm: string, tieMargin: number, out: string): Promise<string | undefined> {
  try {
    const probe = rmPairwiseJudge({ judgeRm: rm, judgeRmTieMargin: tieMargin }, 3, join(out, 'cache'));
    const scorerId = probe?.scorerId;
    await probe?.close();
    return scorerId;
  } catch (e) {
    throw new UserError(`eval-default: ${(e as Error).message.replace(/--judge-rm/g, '--rm')}`);
  }
}

/** LongBench-Write S_l of each model, written under <out>/longbench-write/<model>/ (the files appended to `files`). */
async function writeLongBench(models: HeldoutModel[], out: string, seed: number, files: string[]): Promise<Map<string, LongBenchResult>> {
  const lb = new Map<string, LongBenchResult>();
  for (const m of models) {
    const result = await longBench(m, seed);
    lb.set(m.name, result);
    const { perAnswer, ...rest } = result;
    files.push(
      ...writeOutputs(join(out, 'longbench-write', m.name), {
        results: {
          command: 'longbench-write',
          model: m.name,
          responses: m.file,
          ...rest,
          perAnswer: perAnswer.map(({ prompt: _p, text: _t, ...r }) => r),
        },
        markdown: longBenchMarkdown(result),
        html: longBenchHtml(result),
      }),
    );
  }
  return lb;
}

/** One leaderboard row per arena player: its Elo with the interval, S_l with its interval, format validity, words. */
function leaderboardRows(
  players: readonly { name: string; rating: number; low: number; high: number }[],
  models: HeldoutModel[],
  lb: Map<string, LongBenchResult>,
): LeaderboardRow[] {
  return players.map((p) => {
    const m = models.find((x) => x.name === p.name) as HeldoutModel;
    const s = lb.get(p.name) as LongBenchResult;
    return {
      model: p.name,
      file: m.file,
      elo: p.rating,
      eloLow: p.low,
      eloHigh: p.high,
      S_l: s.S_l,
      S_lLow: s.S_lLow,
      S_lHigh: s.S_lHigh,
      formatValid: mean(m.answers.map((a) => (a.formatValid ? 1 : 0))),
      answerWords: mean(m.answers.map((a) => a.answerWords)),
      answers: m.answers.length,
    };
  });
}

/**
 * The RL runs whose quality reward was this very judge: their Elo then measures how much of their own training
 * reward they gained, not writing quality judged by someone independent of the training. A note naming them, or none.
 */
function trainedOnJudgeNotes(models: HeldoutModel[], scorerId: string | undefined): string[] {
  const trainedOn = [...new Set(models.map((m) => dirname(m.file)))].filter((dir) => {
    try {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { scorers?: { quality?: unknown } };
      return scorerId !== undefined && cfg.scorers?.quality === scorerId;
    } catch {
      return false;
    }
  });
  return trainedOn.length
    ? [
        `the judge is the reward model ${trainedOn.map((d) => basename(d)).join(', ')} trained against (its quality reward): ` +
          "the RL side's Elo is how much of its own reward it gained, not quality judged independently; " +
          'for that, judge the answers files with `lwz-arena arena --judge-url` (an LLM judge) or another reward model (--judge-rm)',
      ]
    : [];
}

export async function run(raw: EvalDefaultCliOptions): Promise<EvalDefaultResult> {
  const o = parseCliOptions(evalDefaultOptionsSchema, raw, 'eval-default');
  const rm = o.rm ?? join(o.runs, 'rm-tiny', 'model');
  const { models, notes } = collectDefaultModels(o.runs);
  if (!existsSync(rm)) {
    throw new UserError(
      `${rm} does not exist: eval-default judges with the built-in reward model; run \`npx nx run trainer:train\` first (its chain trains it: trainer:train-rm) or pass --rm DIR`,
    );
  }
  const scorerId = await probeRmJudge(rm, o.rmTieMargin, o.out);

  // the judged text and required words per line, in a file the arena command reads like any response file
  const answerFiles = models.map((m) => {
    const file = join(o.out, 'answers', `${m.name}.jsonl`);
    writeJsonl(
      file,
      m.answers.map((a) => ({ id: a.id, prompt: a.prompt, answer: a.text, length: a.required })),
    );
    return file;
  });
  const files: string[] = [...answerFiles];
  const lb = await writeLongBench(models, o.out, o.seed, files);
  const arena = await runArena({
    models: models.map((m, i) => `${m.name}=${answerFiles[i]}`),
    out: join(o.out, 'arena'),
    judgeRm: rm,
    judgeRmTieMargin: o.rmTieMargin,
    cacheDir: o.cacheDir ?? join(o.out, 'cache'),
    levels: 3,
    anchor: 'base',
    pairing: 'all',
    bootstrap: o.bootstrap,
    seed: o.seed,
    quiet: o.quiet,
  }).catch((e: unknown) => {
    throw new UserError(`eval-default: ${(e as Error).message.replace(/--judge-rm/g, '--rm')}`);
  });
  files.push(...arena.files);

  const leaderboard = leaderboardRows(arena.result.players, models, lb);
  const judgeNotes = trainedOnJudgeNotes(models, scorerId);
  const summary: DefaultSummary = {
    judge: arena.result.judge,
    anchor: 'base',
    prompts: arena.result.prompts.length,
    resamples: arena.result.resamples,
    notes: [...judgeNotes, ...notes],
    leaderboard,
  };
  files.push(
    ...writeOutputs(o.out, {
      results: { command: 'eval-default', ...summary, leftOut: arena.leftOut },
      markdown: defaultMarkdown(summary),
      html: defaultHtml(summary),
    }),
  );
  return { summary, files };
}

export function register(program: Command): void {
  program
    .command('eval-default')
    .description("the embedded default's checkpoints on the held-out prompts: LongBench-Write S_l and an RM-judged arena")
    .option('--runs <dir>', 'where `lwz-train train` left grpo-tiny (and the ablations grpo-tiny-direct, grpo-tiny-base)', 'runs')
    .option('--rm <dir>', 'the reward-model judge checkpoint (default: <runs>/rm-tiny/model, from `lwz-train train-rm`)')
    .option('--out <dir>', 'writes results.json, report.md, report.html, arena/, longbench-write/<model>/', 'dist/eval/default')
    .option('--cache-dir <dir>', 'RM verdict cache (default: <out>/cache); a rerun scores nothing again')
    .option('--rm-tie-margin <x>', 'a reward difference below this is a tie (scores in [0, 1])', '0.02')
    .option('--bootstrap <n>', 'bootstrap resamples over prompts (>= 100)', '200')
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--quiet', 'no progress bar')
    .action(async (opts: EvalDefaultCliOptions) => {
      const { summary, files } = await run(opts);
      for (const n of summary.notes) console.error(`note: ${n}`);
      console.log(`held-out leaderboard (${summary.prompts} prompts, judge ${summary.judge}, ${summary.anchor} = 1000)`);
      console.log(leaderboardText(summary.leaderboard));
      console.error(`wrote ${files.filter((f) => !f.includes('/answers/')).length} files under ${opts.out ?? 'dist/eval/default'}`);
    });
}
