// `lwz-arena longbench-write --responses F.jsonl [--prompts P.jsonl] [--judge-url URL --judge-model NAME]
// --out DIR`: S_l per answer (required length from each line's `length`, which `lwz-train sample` carries
// over from LongBench-Write rows, or from --prompts), mean and per bucket; with a judge, S_q over six
// dimensions graded 1-5 and overall (S_l + S_q) / 2.
import type { Command } from 'commander';
import { UserError, pathFlag, z } from '@lwz/core';
import { loadPromptFile } from '@lwz/data';
import { ChatCriteriaJudge, CRITERIA_FIELDS } from '@lwz/judges';
import {
  idList,
  loadResponseFile,
  longBenchHtml,
  promptKey,
  textSources,
  longBenchMarkdown,
  longBenchQualityTemplate,
  LONGBENCH_QUALITY_VERSION,
  matchResponses,
  runLongBenchWrite,
  type LongBenchAnswer,
  type LongBenchResult,
  type ResponseRow,
} from '@lwz/eval';
import {
  addJudgeOptions,
  givenChatFlags,
  givenOptions,
  hasJudge,
  judgeClient,
  judgeOptionsSchema,
  judgePrompt,
  parseCliOptions,
} from '../judge-options';
import { progressReporter, writeOutputs, reportUnusable } from '../outputs';

export const longBenchOptionsSchema = judgeOptionsSchema.extend({
  responses: z.string().min(1),
  prompts: pathFlag().optional(),
  out: z.string().min(1),
  seed: z.coerce.number().int().default(0),
  quiet: z.boolean().default(false),
});
export type LongBenchCliOptions = z.input<typeof longBenchOptionsSchema>;

interface AnswerSet {
  answers: LongBenchAnswer[];
  /** ids of the --prompts rows no line answers */
  unanswered: string[];
  /** what the user should know about lines left out or read in more than one way */
  notes: string[];
}

/**
 * One answer per prompt. With --prompts, the prompt rows decide what is scored (their order, their lengths when
 * a line has none): lines no row takes are named in a note and not scored. Without it, every line is a prompt of
 * its own; lines that repeat a prompt text (other tools' files without ids) are named in a note.
 */
function answersOf(responsesFile: string, promptsFile?: string): AnswerSet {
  const responses = loadResponseFile(responsesFile, { promptOptional: promptsFile !== undefined });
  const notes = [`judged text: ${textSources(responses.rows)}`];
  if (responses.extraSamples)
    notes.push(
      `${responses.extraSamples} lines of ${responsesFile} repeat a prompt already answered (same id and prompt): one sample per prompt, the lowest sample_index, is scored`,
    );
  const answer = (r: ResponseRow, prompt: string, required: number | undefined): LongBenchAnswer => {
    const own = r.fields.length;
    // finite: JSON.parse reads 1e400 as Infinity, a requirement no answer has (results.json would write it as null)
    const need = required ?? (typeof own === 'number' && Number.isFinite(own) && own > 0 ? own : undefined);
    if (need === undefined) {
      const hint = promptsFile ? ` and its row of ${promptsFile} has none` : '; give --prompts with LongBench-Write rows';
      const why = typeof own === 'string' ? ` ("length" is the string ${JSON.stringify(own)}; write it as a number)` : '';
      throw new UserError(`${responsesFile}:${r.line}: no required length: the line has no positive "length" field${why}${hint}`);
    }
    const type = typeof r.fields.type === 'string' ? r.fields.type : undefined;
    return { id: r.id, prompt, type, required: need, text: r.text, words: r.words, textSource: r.textSource };
  };
  const lines = (rs: readonly ResponseRow[]) => rs.map((r) => r.line).join(', ');
  // the lines giving each prompt text (lines without a prompt, matched by id alone, are left out)
  const byText = new Map<string, ResponseRow[]>();
  for (const r of responses.rows) if (!r.promptless) byText.set(promptKey(r.prompt), [...(byText.get(promptKey(r.prompt)) ?? []), r]);
  if (promptsFile === undefined) {
    const repeated = [...byText.values()].filter((rs) => rs.length > 1);
    if (repeated.length) {
      notes.push(
        `${repeated.length} prompts are on more than one line of ${responsesFile} (lines ${repeated.slice(0, 3).map(lines).join('; ')}${repeated.length > 3 ? '; ...' : ''}); each line is scored as an answer of its own: keep one line per prompt, or give each sample its prompt's "id" and a "sample_index"`,
      );
    }
    return { answers: responses.rows.map((r) => answer(r, r.prompt, undefined)), unanswered: [], notes };
  }
  const rows = loadPromptFile(promptsFile).rows;
  const { matched, unmatched } = matchResponses(rows, responses);
  const answers: LongBenchAnswer[] = [];
  const unanswered: string[] = [];
  rows.forEach((row, i) => {
    const r = matched[i];
    if (r) answers.push(answer(r, row.prompt, row.length));
    else unanswered.push(row.id);
  });
  if (answers.length === 0) {
    const first = unmatched[0];
    const what = first.promptless ? `has the id ${JSON.stringify(first.id)} and no prompt` : `has the id ${JSON.stringify(first.id)}`;
    throw new UserError(
      `${responsesFile}: no line matches a row of ${promptsFile} (by its id with the same prompt text, or by the prompt text); line ${first.line} ${what}`,
    );
  }
  if (unmatched.length) {
    const ambiguous = unmatched.filter((r) => !r.promptless && (byText.get(promptKey(r.prompt))?.length ?? 0) > 1);
    notes.push(
      `${unmatched.length} lines of ${responsesFile} match no row of ${promptsFile} and are not scored (lines ${lines(unmatched.slice(0, 10))}${unmatched.length > 10 ? ', ...' : ''})` +
        (ambiguous.length
          ? `; ${ambiguous.length} of them repeat a prompt text another line has, so which answers it cannot be told: keep one line per prompt, or give each its row's "id"`
          : '; their prompt text (and id) differ from every row'),
    );
  }
  return { answers, unanswered, notes };
}

export async function run(raw: LongBenchCliOptions): Promise<{ result: LongBenchResult; files: string[]; notes: string[] }> {
  const o = parseCliOptions(longBenchOptionsSchema, raw, 'longbench-write');
  // raw: the options given (from the CLI without the judge flags' defaults, see givenOptions)
  const idle = hasJudge(o) ? [] : givenChatFlags(raw);
  if (idle.length)
    throw new UserError(
      `lwz-arena longbench-write: ${idle.join(', ')} set${idle.length === 1 ? 's' : ''} the quality judge, which runs only with --judge-url and --judge-model: add them for S_q, or remove ${idle.length === 1 ? 'it' : 'them'} (S_l alone needs no judge)`,
    );
  const { answers, unanswered, notes } = answersOf(o.responses, o.prompts);
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
      unanswered,
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
  return { result, files, notes };
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
  addJudgeOptions(cmd, false).action(async (opts: LongBenchCliOptions, command: Command) => {
    const { result, files, notes } = await run(givenOptions(command, opts));
    const unanswered = result.unanswered ?? [];
    for (const n of notes) console.error(`note: ${n}`);
    const graded = result.perAnswer.flatMap((a) => a.dimensions ?? []);
    reportUnusable('longbench-write', graded.filter((d) => d.score === null).length, graded.length, 'quality judgments');
    if (unanswered.length)
      console.error(
        `note: ${unanswered.length} rows of ${opts.prompts} have no response (not scored; S_l is over the ${result.answers} answered): ${idList(unanswered)}`,
      );
    console.log(`S_l ${result.S_l.toFixed(2)} [${result.S_lLow.toFixed(2)}, ${result.S_lHigh.toFixed(2)}] over ${result.answers} answers`);
    if (result.S_q !== undefined) console.log(`S_q ${result.S_q.toFixed(2)}  overall ${(result.overall as number).toFixed(2)}`);
    for (const b of result.buckets) if (b.answers) console.log(`  ${b.label.padEnd(14)} S_l ${b.S_l.toFixed(2)} (${b.answers})`);
    console.error(`wrote ${files.join(', ')}`);
  });
}
