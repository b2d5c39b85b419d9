// `lwz-arena longbench-write --responses F.jsonl [--prompts P.jsonl] [--judge-url URL --judge-model NAME]
// --out DIR`: S_l per answer (required length from each line's `length`, which `lwz-train sample` carries
// over from LongBench-Write rows, or from --prompts), mean and per bucket; with a judge, S_q over six
// dimensions graded 1-5 and overall (S_l + S_q) / 2.
import type { Command } from 'commander';
import { UserError, z } from '@lwz/core';
import { loadPromptFile } from '@lwz/data';
import { ChatCriteriaJudge, CRITERIA_FIELDS } from '@lwz/judges';
import {
  loadResponseFile,
  longBenchHtml,
  longBenchMarkdown,
  longBenchQualityTemplate,
  LONGBENCH_QUALITY_VERSION,
  matchResponses,
  runLongBenchWrite,
  type LongBenchAnswer,
  type LongBenchResult,
} from '@lwz/eval';
import { addJudgeOptions, hasJudge, judgeClient, judgeOptionsSchema, judgePrompt, parseCliOptions } from '../judge-options';
import { progressReporter, writeOutputs, reportUnusable } from '../outputs';

export const longBenchOptionsSchema = judgeOptionsSchema.extend({
  responses: z.string().min(1),
  prompts: z.string().optional(),
  out: z.string().min(1),
  seed: z.coerce.number().int().default(0),
  quiet: z.boolean().default(false),
});
export type LongBenchCliOptions = z.input<typeof longBenchOptionsSchema>;

function answersOf(responsesFile: string, promptsFile?: string): { answers: LongBenchAnswer[]; unanswered: number } {
  const responses = loadResponseFile(responsesFile, { promptOptional: promptsFile !== undefined });
  const rows = promptsFile === undefined ? undefined : loadPromptFile(promptsFile).rows;
  const required = new Map<unknown, number>();
  const promptOf = new Map<unknown, string>();
  let unanswered = 0;
  if (rows) {
    const { matched } = matchResponses(rows, responses);
    rows.forEach((row, i) => {
      const r = matched[i];
      if (!r) return void unanswered++;
      promptOf.set(r, row.prompt);
      if (row.length !== undefined) required.set(r, row.length);
    });
  }
  const answers = responses.rows.map((r) => {
    if (r.promptless && !promptOf.has(r))
      throw new UserError(`${responsesFile}:${r.line}: no prompt, and no row of ${promptsFile} has its id ${JSON.stringify(r.id)}`);
    const own = r.fields.length;
    const need = required.get(r) ?? (typeof own === 'number' && own > 0 ? own : undefined);
    if (need === undefined) {
      throw new UserError(
        `${responsesFile}:${r.line}: no required length: the line has no positive "length" field${promptsFile ? ` and no row of ${promptsFile} with a length matches it` : '; give --prompts with LongBench-Write rows'}`,
      );
    }
    return {
      id: r.id,
      prompt: promptOf.get(r) ?? r.prompt,
      type: typeof r.fields.type === 'string' ? r.fields.type : undefined,
      required: need,
      text: r.text,
      words: r.words,
    };
  });
  return { answers, unanswered };
}

export async function run(raw: LongBenchCliOptions): Promise<{ result: LongBenchResult; files: string[]; unanswered: number }> {
  const o = parseCliOptions(longBenchOptionsSchema, raw, 'longbench-write');
  const { answers, unanswered } = answersOf(o.responses, o.prompts);
  const prompt = judgePrompt(o, CRITERIA_FIELDS, ['response']);
  const judge = hasJudge(o)
    ? new ChatCriteriaJudge(judgeClient(o, o.out), {
        range: [1, 5],
        maxAttempts: o.judgeAttempts,
        ...(prompt.template ? {} : { template: longBenchQualityTemplate(), system: null, promptVersion: LONGBENCH_QUALITY_VERSION }),
        ...prompt,
      })
    : undefined;
  let result: LongBenchResult;
  try {
    result = await runLongBenchWrite({
      answers,
      judge,
      seed: o.seed,
      onProgress: o.quiet ? undefined : progressReporter('longbench-write quality'),
    });
  } catch (e) {
    throw e instanceof UserError ? e : new UserError(`longbench-write: ${(e as Error).message}`);
  }
  const files = writeOutputs(o.out, {
    // answers and prompts stay in the input files and the report; results.json keeps ids and numbers
    results: {
      command: 'longbench-write',
      ...(judge ? { judgeModel: o.judgeModel } : {}),
      ...result,
      perAnswer: result.perAnswer.map(({ prompt: _p, text: _t, ...rest }) => rest),
    },
    markdown: longBenchMarkdown(result),
    html: longBenchHtml(result),
  });
  return { result, files, unanswered };
}

export function register(program: Command): void {
  const cmd = program
    .command('longbench-write')
    .description('LongBench-Write: length score S_l per answer and by bucket; quality S_q and overall with a judge')
    .requiredOption('--responses <file>', 'answers with the required `length` per line (sample output over LongBench-Write rows)')
    .option('--prompts <file>', 'prompt rows with `length` (when the response lines lack it)')
    .requiredOption('--out <dir>', 'writes results.json, report.md, report.html')
    .option('--seed <n>', 'bootstrap seed for the intervals', '0')
    .option('--quiet', 'no progress bar');
  addJudgeOptions(cmd, false).action(async (opts: LongBenchCliOptions) => {
    const { result, files, unanswered } = await run(opts);
    const graded = result.perAnswer.flatMap((a) => a.dimensions ?? []);
    reportUnusable('longbench-write', graded.filter((d) => d.score === null).length, graded.length, 'quality judgments');
    if (unanswered) console.error(`note: ${unanswered} rows of ${opts.prompts} have no response (not scored)`);
    console.log(`S_l ${result.S_l.toFixed(2)} [${result.S_lLow.toFixed(2)}, ${result.S_lHigh.toFixed(2)}] over ${result.answers} answers`);
    if (result.S_q !== undefined) console.log(`S_q ${result.S_q.toFixed(2)}  overall ${(result.overall as number).toFixed(2)}`);
    for (const b of result.buckets) if (b.answers) console.log(`  ${b.label.padEnd(14)} S_l ${b.S_l.toFixed(2)} (${b.answers})`);
    console.error(`wrote ${files.join(', ')}`);
  });
}
