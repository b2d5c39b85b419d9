// `lwz-arena arena --models NAME=F.jsonl ... [--baselines F.jsonl] (--judge-url URL --judge-model NAME
// [--judge-key-env VAR] | --judge-rm DIR | --judge-onnx-rm FILE) --out DIR`: pairwise judging on the prompts
// the files share, each pair in both orders, Bradley-Terry Elo with bootstrap intervals (optionally
// length-controlled), win rates and mean words; writes results.json, report.md, report.html. Every verdict is
// cached under --cache-dir first, so a rerun (or a run after a crash) repeats no judge call or RM scoring.
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError, pathFlag, z } from '@lwz/core';
import { ChatPairwiseJudge, PAIRWISE_FIELDS } from '@lwz/judges';
import { arenaHtml, arenaInputs, arenaMarkdown, describeTextSources, loadResponseFile, runArena, type ArenaResult } from '@lwz/eval';
import {
  addJudgeOptions,
  givenChatFlags,
  givenOptions,
  judgeClient,
  judgeOptionsSchema,
  judgePrompt,
  parseCliOptions,
} from '../judge-options';
import { progressReporter, writeOutputs, reportUnusable } from '../outputs';
import { addRmJudgeOptions, rmJudgeOptionsSchema, rmPairwiseJudge } from '../rm-judge';
import { formatElo } from '../default-report';

export const arenaOptionsSchema = judgeOptionsSchema.extend({
  ...rmJudgeOptionsSchema.shape,
  models: z.array(z.string().regex(/^[^=]+=.+$/, 'expected NAME=FILE.jsonl')).min(1, 'give at least one --models NAME=FILE.jsonl'),
  baselines: pathFlag().optional(),
  out: z.string().min(1),
  pairing: z.enum(['all', 'vs-baselines']).optional(),
  levels: z.coerce
    .number()
    .refine((n) => n === 3 || n === 5, 'must be 3 or 5')
    .default(5),
  anchor: z.string().optional(),
  bootstrap: z.coerce.number().int().min(100, 'at least 100 resamples').default(100),
  seed: z.coerce.number().int().default(0),
  lengthControl: z.boolean().default(false),
  strongWeight: z.coerce.number().positive().default(1),
  quiet: z.boolean().default(false),
});
export type ArenaCliOptions = z.input<typeof arenaOptionsSchema>;

export interface ArenaRunResult {
  result: ArenaResult;
  files: string[];
  leftOut: Record<string, number>;
  /** what the user should know about answers not judged (repeated lines, baseline prompts a model did not answer) */
  notes: string[];
}

/** Notes on the lines and prompts arenaInputs left out beyond `leftOut` (which the command prints itself). */
function inputNotes(inputs: ReturnType<typeof arenaInputs>, baselines: string | undefined): string[] {
  const notes = Object.entries(inputs.judgedText).map(([name, counts]) => `${name}: judged text: ${describeTextSources(counts)}`);
  for (const [name, n] of Object.entries(inputs.repeated))
    if (n)
      notes.push(
        `${name}: ${n} line(s) of its file repeat a prompt it already answered and are not judged (its first answer to each prompt, the lowest sample_index, is)`,
      );
  for (const [name, n] of Object.entries(inputs.unanswered))
    if (n) notes.push(`${name} has no answer to ${n} prompt(s) of ${baselines}: they are left out of the arena`);
  return notes;
}

export async function run(raw: ArenaCliOptions): Promise<ArenaRunResult> {
  const o = parseCliOptions(arenaOptionsSchema, raw, 'arena');
  const models = o.models.map((spec) => {
    const eq = spec.indexOf('=');
    return { name: spec.slice(0, eq), responses: loadResponseFile(spec.slice(eq + 1)) };
  });
  const inputs = arenaInputs(models, o.baselines);
  if (inputs.prompts.length === 0) throw new UserError('arena: the files share no prompt (prompts are matched on their text)');
  if (o.anchor !== undefined && !inputs.players.some((p) => p.name === o.anchor)) {
    throw new UserError(`--anchor ${o.anchor}: not a player; players: ${inputs.players.map((p) => p.name).join(', ')}`);
  }
  // raw: the options given (from the CLI without the judge flags' defaults, see givenOptions)
  const rm = rmPairwiseJudge({ ...o, chatFlags: givenChatFlags(raw) }, o.levels as 3 | 5, o.cacheDir ?? join(o.out, 'cache'));
  const judge =
    rm?.judge ??
    new ChatPairwiseJudge(judgeClient(o, o.out), {
      levels: o.levels as 3 | 5,
      maxAttempts: o.judgeAttempts,
      ...judgePrompt(o, PAIRWISE_FIELDS, ['answer_a', 'answer_b']),
    });
  let result: ArenaResult;
  try {
    result = await runArena({
      prompts: inputs.prompts,
      players: inputs.players,
      judge,
      pairing: o.pairing,
      anchor: o.anchor,
      resamples: o.bootstrap,
      seed: o.seed,
      lengthControl: o.lengthControl,
      strongWeight: o.strongWeight,
      onProgress: o.quiet ? undefined : progressReporter('arena'),
    });
  } catch (e) {
    const message = (e as Error).message;
    throw e instanceof UserError ? e : new UserError(message.startsWith('arena: ') ? message : `arena: ${message}`);
  } finally {
    await rm?.close();
  }
  const files = writeOutputs(o.out, {
    // prompts without their match key (the prompt text again)
    results: {
      command: 'arena',
      ...(rm ? {} : { judgeModel: o.judgeModel }),
      leftOut: inputs.leftOut,
      repeated: inputs.repeated,
      judgedText: inputs.judgedText,
      ...(o.baselines !== undefined ? { unanswered: inputs.unanswered } : {}),
      ...result,
      prompts: result.prompts.map(({ key: _k, ...p }) => p),
    },
    markdown: arenaMarkdown(result),
    html: arenaHtml(result, inputs.players),
  });
  return { result, files, leftOut: inputs.leftOut, notes: inputNotes(inputs, o.baselines) };
}

export function register(program: Command): void {
  const cmd = program
    .command('arena')
    .description('pairwise arena: both orders per pair, Bradley-Terry Elo with bootstrap intervals, win rates')
    .requiredOption('--models <NAME=FILE...>', 'a response file per model (sample output or any prompt + response JSONL)')
    .option('--baselines <file>', 'Arena-Write file (baseline_response per prompt) or another response file')
    .requiredOption('--out <dir>', 'writes results.json, report.md, report.html')
    .option('--pairing <mode>', 'all (every pair) or vs-baselines (default with --baselines)')
    .option('--levels <n>', 'verdict levels: 5 ([[A>>B]]..[[B>>A]]) or 3', '5')
    .option('--anchor <name>', 'the player rated 1000 (default: the mean is 1000)')
    .option('--bootstrap <n>', 'bootstrap resamples over prompts (>= 100)', '100')
    .option('--seed <n>', 'bootstrap seed', '0')
    .option('--length-control', 'also fit length-controlled ratings (length-difference covariate)')
    .option('--strong-weight <w>', 'weight of [[A>>B]] / [[B>>A]] in the fit (arena-hard uses 3)', '1')
    .option('--quiet', 'no progress bar');
  addRmJudgeOptions(addJudgeOptions(cmd, true)).action(async (opts: ArenaCliOptions, command: Command) => {
    const { result, files, leftOut, notes } = await run(givenOptions(command, opts));
    reportUnusable('arena', result.invalid, result.judgments.length, 'judgments');
    for (const p of result.players) {
      const rating = p.battles ? `${formatElo(p.rating)} [${formatElo(p.low)}, ${formatElo(p.high)}]` : '- (no usable verdict)';
      const words = Number.isFinite(p.avgWords) ? `${Math.round(p.avgWords)} words` : '';
      console.log(`${p.name.padEnd(24)} ${rating}  ${words}`);
    }
    for (const [name, n] of Object.entries(leftOut))
      if (n) console.error(`note: ${n} prompt(s) answered by ${name} were left out (not answered by every player)`);
    if (result.emptyDecided)
      console.error(
        `note: ${result.emptyDecided} of ${result.judgments.length} judgments had an empty answer and were decided without the judge (the other answer wins; two empty answers tie)`,
      );
    for (const n of notes) console.error(`note: ${n}`);
    console.error(`wrote ${files.join(', ')}`);
  });
}
