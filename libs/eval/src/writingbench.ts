// WritingBench scoring (conventions in ../shared/data/README.md): each criterion of each query is scored
// separately by a criteria judge (integer 1-10 with a reason); a query's score is the mean of its criteria,
// overall the mean of all criterion scores, a domain's the mean of its queries' scores. With a "C" file
// (same queries, only the requirement-specific criteria, e.g. length_subset_C.jsonl): R = the overall of
// the queries it covers on all their criteria, C = the mean over its criteria only. A criterion that appears
// in both files is judged once. Queries without a response are listed, not scored. Departure from WritingBench's
// own script: an empty (or whitespace-only) response is not sent to the judge; each of its criteria scores the
// scale's minimum, and the result lists it in `empty`; responses are matched to
// queries here once (a response set that answers none is a NoMatchingResponseError, before any judging).
import type { PromptRow } from '@lwz/data';
import { canonicalJson } from '@lwz/llm-client';
import type { CriteriaItem, CriteriaJudge, JudgeCriterion } from '@lwz/judges';
import { bootstrapMeanInterval, mean } from './bootstrap';
import { isBlankText, matchResponses, textSourceCounts, type ResponseRow, type ResponseSet, type TextSource } from './responses';
import { requiredWords } from './required-length';

export interface CriterionResult {
  name: string;
  /** null: no usable reply after every ask (left out of the means) */
  score: number | null;
  reason: string;
  /** listed in the C file for this query */
  specific: boolean;
}

export interface QueryResult {
  id: string;
  domain1: string;
  domain2: string;
  query: string;
  /** the judged text */
  response: string;
  /** which part of the response line it is (the shared rule of responses.ts: the answer, not the plan) */
  textSource: TextSource;
  words: number;
  /** words the query asks for, when it says (reports) */
  required?: number;
  /** mean of its scored criteria (NaN when none was scored) */
  score: number;
  criteria: CriterionResult[];
}

export interface GroupScore {
  name: string;
  /** absent when the judge scored none of the group's queries */
  score?: number;
  /** 95 % bootstrap interval over the group's scored queries */
  low?: number;
  high?: number;
  /** queries with a score */
  queries: number;
  /** answered queries without a usable score (every criterion's reply unusable) */
  unscored?: number;
}

export interface WritingBenchResult {
  judge: string;
  range: readonly [number, number];
  queries: number;
  judged: number;
  /** ids of queries without a response */
  missing: string[];
  /** how many judged responses' text came from each part of their line (the answer field, the <answer> block, ...) */
  judgedText: Partial<Record<TextSource, number>>;
  /** ids of queries whose response is empty or whitespace only: not sent to the judge, every criterion at the range's minimum */
  empty: string[];
  /** response lines no query took (an unknown index, or a query text of no row): not judged */
  unmatched: { line: number; id: string }[];
  overall: number;
  /** criterion judgments without a usable score (left out; rerun with more --judge-attempts to ask further) */
  invalid: number;
  /** 95 % bootstrap interval over queries */
  overallLow: number;
  overallHigh: number;
  domain1: GroupScore[];
  domain2: GroupScore[];
  requirement?: { R: number; C: number; queries: number };
  perQuery: QueryResult[];
}

export interface WritingBenchOptions {
  queries: readonly PromptRow[];
  /** the requirement-specific criteria file (same query ids) */
  specific?: readonly PromptRow[];
  responses: ResponseSet;
  judge: CriteriaJudge;
  resamples?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * No response line answers any query (by index/id with the same query text, or by the query text): thrown by
 * runWritingBench before any judging. `first` is the response set's first line (which no query took), `sameId` the
 * query with its index when there is one (then their query texts differ); a CLI turns them into its own message.
 */
export class NoMatchingResponseError extends Error {
  constructor(
    readonly first: ResponseRow,
    readonly sameId: PromptRow | undefined,
  ) {
    super(
      `WritingBench: no response matches a query (by index/id with the same query text, or by the query text); response line ${first.line} (index ${JSON.stringify(first.id)}) ${sameId ? `has the index of query line ${sameId.line}, whose text differs` : 'matches no query by its index or its query text'}`,
    );
    this.name = 'NoMatchingResponseError';
  }
}

/** The criteria's scores, unscored ones left out. */
const scored = (criteria: readonly CriterionResult[]): number[] => criteria.flatMap((c) => (c.score === null ? [] : [c.score]));

const criterionKey = (queryId: string, c: JudgeCriterion) => `${queryId}\u0000${canonicalJson(c)}`;

/** The reason every criterion of an empty response carries. */
export const EMPTY_RESPONSE_REASON = 'empty response: not sent to the judge';

/** Every group with an answered query; a group whose queries the judge scored none of keeps its row, without a score. */
function groupScores(perQuery: readonly QueryResult[], field: 'domain1' | 'domain2', resamples: number, seed: number): GroupScore[] {
  const groups = new Map<string, QueryResult[]>();
  for (const q of perQuery) groups.set(q[field], [...(groups.get(q[field]) ?? []), q]);
  return [...groups.entries()]
    .map(([name, qs]): GroupScore => {
      const s = qs.flatMap((q) => (Number.isFinite(q.score) ? [q.score] : []));
      if (!s.length) return { name, queries: 0, unscored: qs.length };
      const [low, high] = bootstrapMeanInterval(s, resamples, seed);
      return { name, score: mean(s), low, high, queries: s.length, ...(s.length < qs.length ? { unscored: qs.length - s.length } : {}) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every (query, criterion) to judge, once each, keyed by criterionKey, for the queries that have a non-empty response; and the
 * keys of each query's specific criteria (from the C file's rows for these queries). A C file that shares no query
 * with these queries, or names a criterion its query's checklist lacks, is an error naming its line.
 */
function criteriaToJudge(
  queries: WritingBenchOptions['queries'],
  matched: ReturnType<typeof matchResponses>['matched'],
  specificRows: WritingBenchOptions['specific'],
): { specific: Map<string, Set<string>>; unique: Map<string, CriteriaItem> } {
  const specific = new Map<string, Set<string>>(); // query id -> keys of its specific criteria
  // a C file may cover more queries than are evaluated (the whole subset's C file beside part of its queries): its
  // other rows are left out; one that shares no index with the queries is the wrong file
  const ids = new Set(queries.map((q) => q.id));
  const inScope = (specificRows ?? []).filter((row) => ids.has(row.id));
  if (specificRows?.length && !inScope.length)
    throw new Error(
      `the C file shares no query index with the queries file (its first row: ${specificRows[0].id}); is it the C file of these queries?`,
    );
  for (const row of inScope) specific.set(row.id, new Set((row.criteria ?? []).map((c) => criterionKey(row.id, c))));
  // every (query, criterion) to judge, once each
  const unique = new Map<string, CriteriaItem>();
  queries.forEach((q, i) => {
    const r = matched[i];
    if (!r) return;
    if (!q.criteria?.length) throw new Error(`query ${q.id} (line ${q.line}) has no criteria: is this a WritingBench file?`);
    const own = new Set(q.criteria.map((c) => criterionKey(q.id, c)));
    if (!isBlankText(r.text))
      for (const c of q.criteria) unique.set(criterionKey(q.id, c), { query: q.prompt, response: r.text, criterion: c });
    for (const key of specific.get(q.id) ?? []) {
      if (!own.has(key)) {
        const c = inScope.find((row) => row.id === q.id);
        const name = c?.criteria?.find((x) => criterionKey(q.id, x) === key)?.name;
        throw new Error(
          `C file line ${c?.line}: query ${q.id}'s criterion ${JSON.stringify(name)} is not in its checklist in the queries file (line ${q.line}); the C file must hold the same criteria, word for word, as its queries file`,
        );
      }
    }
  });
  return { specific, unique };
}

export async function runWritingBench(o: WritingBenchOptions): Promise<WritingBenchResult> {
  const { matched, unmatched } = matchResponses(o.queries, o.responses);
  if (!matched.some((r) => r !== undefined))
    throw new NoMatchingResponseError(
      unmatched[0],
      o.queries.find((q) => q.id === unmatched[0].id),
    );
  const { specific, unique } = criteriaToJudge(o.queries, matched, o.specific);
  const keys = [...unique.keys()];
  let done = 0;
  o.onProgress?.(0, keys.length);
  const judged = await o.judge.judgeAll([...unique.values()], { signal: o.signal, onJudged: () => o.onProgress?.(++done, keys.length) });
  const byKey = new Map(keys.map((k, i) => [k, judged[i]]));

  const perQuery: QueryResult[] = [];
  const missing: string[] = [];
  const empty: string[] = [];
  o.queries.forEach((q, i) => {
    const r = matched[i];
    if (!r) return void missing.push(q.id);
    if (isBlankText(r.text)) empty.push(q.id);
    const criteria = (q.criteria ?? []).map((c) => {
      const key = criterionKey(q.id, c);
      const j = isBlankText(r.text)
        ? { score: o.judge.range[0], reason: EMPTY_RESPONSE_REASON }
        : (byKey.get(key) as { score: number | null; reason: string });
      return { name: c.name, score: j.score, reason: j.reason, specific: specific.get(q.id)?.has(key) ?? false };
    });
    const required = requiredWords(q.prompt, q.fields);
    perQuery.push({
      id: q.id,
      domain1: String(q.fields.domain1 ?? q.type ?? ''),
      domain2: String(q.fields.domain2 ?? ''),
      query: q.prompt,
      response: r.text,
      textSource: r.textSource,
      words: r.words,
      ...(required !== undefined ? { required } : {}),
      score: mean(scored(criteria)),
      criteria,
    });
  });
  const all = perQuery.flatMap((q) => scored(q.criteria));
  const withScore = perQuery.filter((q) => Number.isFinite(q.score));
  const resamples = o.resamples ?? 1000;
  const seed = o.seed ?? 0;
  const [overallLow, overallHigh] = bootstrapMeanInterval(
    withScore.map((q) => q.score),
    resamples,
    seed,
  );
  const covered = perQuery.filter((q) => specific.has(q.id));
  return {
    judge: o.judge.id,
    range: o.judge.range,
    queries: o.queries.length,
    judged: perQuery.length,
    missing,
    judgedText: textSourceCounts(perQuery),
    empty,
    unmatched: unmatched.map((r) => ({ line: r.line, id: r.id })),
    overall: mean(all),
    overallLow,
    overallHigh,
    invalid: perQuery.reduce((n, q) => n + q.criteria.filter((c) => c.score === null).length, 0),
    domain1: groupScores(perQuery, 'domain1', resamples, seed),
    domain2: groupScores(perQuery, 'domain2', resamples, seed),
    ...(o.specific
      ? {
          requirement: {
            R: mean(covered.flatMap((q) => scored(q.criteria))),
            C: mean(covered.flatMap((q) => scored(q.criteria.filter((c) => c.specific)))),
            queries: covered.length,
          },
        }
      : {}),
    perQuery,
  };
}
