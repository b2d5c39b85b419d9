// `lwz-arena writingbench --responses F.jsonl --queries Q.jsonl [--c-queries QC.jsonl] --judge-url URL
// --judge-model NAME [--judge-key-env VAR] --out DIR`: every criterion of every query scored 1-10 by the
// critic (ours, or --judge-template, e.g. WritingBench's own evaluate_prompt.txt), then overall, per
// domain1/domain2, and R and C when the requirement-specific criteria file is given.
import type { Command } from 'commander';
import { UserError, pathFlag, z } from '@lwz/core';
import { loadPromptFile } from '@lwz/data';
import { ChatCriteriaJudge, CRITERIA_FIELDS } from '@lwz/judges';
import {
  loadResponseFile,
  NoMatchingResponseError,
  runWritingBench,
  describeTextSources,
  idList,
  writingBenchHtml,
  writingBenchMarkdown,
  type ResponseSet,
  type WritingBenchResult,
} from '@lwz/eval';
import { addJudgeOptions, judgeClient, judgeOptionsSchema, judgePrompt, parseCliOptions } from '../judge-options';
import { progressReporter, writeOutputs, reportUnusable } from '../outputs';

export const writingBenchOptionsSchema = judgeOptionsSchema.extend({
  responses: z.string().min(1),
  queries: z.string().min(1),
  cQueries: pathFlag().optional(),
  out: z.string().min(1),
  seed: z.coerce.number().int().default(0),
  quiet: z.boolean().default(false),
});
export type WritingBenchCliOptions = z.input<typeof writingBenchOptionsSchema>;

function loadQueries(file: string, flag: string) {
  const set = loadPromptFile(file);
  if (set.format !== 'writingbench-v1' && set.format !== 'writingbench-v2') {
    throw new UserError(
      `${flag} ${file}: expected WritingBench rows {index, domain1, domain2, query, checklist|criteria}, detected ${set.format}`,
    );
  }
  return set.rows;
}

/**
 * No line of the response file answers a query (runWritingBench found none, before any judging): why, for its first
 * line (its index is no query's, or its query's text differs), naming both files.
 */
function noMatchMessage(
  e: NoMatchingResponseError,
  queries: ReturnType<typeof loadQueries>,
  responsesFile: string,
  queriesFile: string,
): string {
  const { first, sameId: same } = e;
  const ownId = ['id', 'index', 'idx'].some((f) => first.fields[f] !== undefined);
  const indexes = `the queries' indexes: ${queries
    .slice(0, 5)
    .map((q) => q.id)
    .join(', ')}${queries.length > 5 ? ', ...' : ''}`;
  const why = same
    ? `has the index ${JSON.stringify(first.id)}, whose query in ${queriesFile} (line ${same.line}) has another text: are these the answers to these queries?`
    : ownId
      ? `has the index ${JSON.stringify(first.id)}, which no query has (${indexes})${first.promptless ? '' : ', and a query text no row has'}`
      : `has no index and a query text no row has; give each line its query's "index" (${indexes})`;
  return `${responsesFile}: no line matches a query of ${queriesFile} (by its index with the same query text, or by the query text); line ${first.line} ${why}`;
}

/**
 * Lines of the response file that are not judged (or not sent to the judge), and from which part of each response
 * the judged text came.
 */
function responseNotes(responses: ResponseSet, { unmatched, empty, range, judgedText }: WritingBenchResult): string[] {
  const notes = [`judged text: ${describeTextSources(judgedText)}`];
  if (empty.length) {
    notes.push(
      `${empty.length} responses are empty (or whitespace only) and were not sent to the judge: each of their criteria scores ${range[0]}, the minimum (indexes ${idList(empty)})`,
    );
  }
  if (responses.extraSamples) {
    notes.push(
      `${responses.extraSamples} lines of ${responses.file} repeat a query already answered (same index and query): one sample per query, the lowest sample_index, is judged`,
    );
  }
  if (unmatched.length) {
    const lines = unmatched.slice(0, 10).map((r) => `${r.line} (index ${JSON.stringify(r.id)})`);
    notes.push(
      `${unmatched.length} lines of ${responses.file} match no query and are not judged: ${lines.join(', ')}${unmatched.length > 10 ? ', ...' : ''}; is their index (or query text) the queries file's?`,
    );
  }
  return notes;
}

export async function run(raw: WritingBenchCliOptions): Promise<{ result: WritingBenchResult; files: string[]; notes: string[] }> {
  const o = parseCliOptions(writingBenchOptionsSchema, raw, 'writingbench');
  const queries = loadQueries(o.queries, '--queries');
  const specific = o.cQueries === undefined ? undefined : loadQueries(o.cQueries, '--c-queries');
  const responses = loadResponseFile(o.responses, { promptOptional: true }); // WritingBench's own files: {index, response}
  const judge = new ChatCriteriaJudge(judgeClient(o, o.out), {
    range: [1, 10],
    maxAttempts: o.judgeAttempts,
    ...judgePrompt(o, CRITERIA_FIELDS, ['response']),
  });
  let result: WritingBenchResult;
  try {
    result = await runWritingBench({
      queries,
      specific,
      responses,
      judge,
      seed: o.seed,
      onProgress: o.quiet ? undefined : progressReporter('writingbench'),
    });
  } catch (e) {
    if (e instanceof NoMatchingResponseError) throw new UserError(noMatchMessage(e, queries, responses.file, o.queries));
    throw e instanceof UserError ? e : new UserError(`writingbench: ${(e as Error).message}`);
  }
  const files = writeOutputs(o.out, {
    // queries and answers stay in the input files and the report; results.json keeps ids, scores and reasons
    results: {
      command: 'writingbench',
      judgeModel: o.judgeModel,
      ...result,
      perQuery: result.perQuery.map(({ query: _q, response: _r, ...rest }) => rest),
    },
    markdown: writingBenchMarkdown(result),
    html: writingBenchHtml(result),
  });
  return { result, files, notes: responseNotes(responses, result) };
}

export function register(program: Command): void {
  const cmd = program
    .command('writingbench')
    .description('WritingBench: each criterion scored 1-10 by a critic judge; overall, domains, R and C')
    .requiredOption('--responses <file>', 'answers (sample output or any prompt + response JSONL), matched by index/id or query text')
    .requiredOption('--queries <file>', 'WritingBench queries (v1 criteria or v2 checklist)')
    .option('--c-queries <file>', 'the same queries with only the requirement-specific criteria (e.g. length_subset_C.jsonl)')
    .requiredOption('--out <dir>', 'writes results.json, report.md, report.html')
    .option('--seed <n>', 'bootstrap seed for the intervals', '0')
    .option('--quiet', 'no progress bar');
  addJudgeOptions(cmd, true).action(async (opts: WritingBenchCliOptions) => {
    const { result, files, notes } = await run(opts);
    reportUnusable(
      'writingbench',
      result.invalid,
      result.perQuery.reduce((n, q) => n + q.criteria.length, 0),
      'criterion judgments',
    );
    console.log(
      `overall ${result.overall.toFixed(3)} [${result.overallLow.toFixed(3)}, ${result.overallHigh.toFixed(3)}] over ${result.judged} queries`,
    );
    if (result.requirement) console.log(`R ${result.requirement.R.toFixed(3)}  C ${result.requirement.C.toFixed(3)}`);
    for (const d of result.domain1) {
      const unscored = d.unscored ? `, ${d.unscored} unscored` : '';
      console.log(`  ${d.name.padEnd(28)} ${d.score === undefined ? '-' : d.score.toFixed(3)} (${d.queries}${unscored})`);
    }
    for (const n of notes) console.error(`note: ${n}`);
    if (result.missing.length)
      console.error(`note: ${result.missing.length} queries have no response: ${result.missing.slice(0, 10).join(', ')}`);
    console.error(`wrote ${files.join(', ')}`);
  });
}
