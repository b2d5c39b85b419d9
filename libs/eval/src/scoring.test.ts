// WritingBench aggregation and LongBench-Write scores, with a stub criteria judge whose scores are a known
// function of (criterion, response), so every aggregate is checked against a hand computation; and the
// response-file rules (answer block over the whole completion, first sample, matching).
import { parsePromptSet } from '@lwz/data';
import { parseCompletion } from '@lwz/tokenizer';
import type { CriteriaItem, CriteriaJudge, CriterionJudgment } from '@lwz/judges';
import { parseResponses, matchResponses, textSources } from './responses';
import { longBenchMarkdown, writingBenchMarkdown } from './report/scores-report';
import { NoMatchingResponseError, runWritingBench } from './writingbench';
import { lengthScore, runLongBenchWrite, QUALITY_DIMENSIONS } from './longbench-write';

function stubJudge(range: [number, number], score: (item: CriteriaItem) => number): CriteriaJudge & { calls: number } {
  const judge = {
    id: 'stub',
    range,
    calls: 0,
    async judgeAll(items: readonly CriteriaItem[]): Promise<CriterionJudgment[]> {
      judge.calls += items.length;
      return items.map((it) => ({ score: score(it), reason: `r:${it.criterion.name}`, asks: 1, cached: false }));
    },
  };
  return judge;
}

const crit = (name: string) => ({ name, criteria_description: `about ${name}`, '1-2': 'bad', '9-10': 'good' });
const wbRow = (index: number, domain1: string, domain2: string, names: string[]) =>
  JSON.stringify({ index, domain1, domain2, query: `Query ${index}`, checklist: names.map(crit) });

describe('WritingBench', () => {
  const queries = parsePromptSet(
    [
      wbRow(1, 'Education', 'Lessons', ['A', 'B', 'Length']),
      wbRow(2, 'Education', 'Essays', ['A', 'Length', 'C']),
      wbRow(3, 'Law', 'Contracts', ['A', 'B', 'C']),
    ].join('\n'),
    'q.jsonl',
  ).rows;
  const specific = parsePromptSet(
    [wbRow(1, 'Education', 'Lessons', ['Length']), wbRow(2, 'Education', 'Essays', ['Length'])].join('\n'),
    'c.jsonl',
  ).rows;
  // criterion score: A 8, B 6, C 4, Length 2 (+1 for response "long")
  const base: Record<string, number> = { A: 8, B: 6, C: 4, Length: 2 };
  const responses = parseResponses(
    [
      { index: 1, query: 'Query 1', response: 'long' },
      { id: '2', prompt: 'Query 2', response: 'short' },
      { prompt: 'Unknown', response: 'x' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
    'r.jsonl',
  );

  it('scores each criterion once and aggregates overall, per domain, R and C', async () => {
    const judge = stubJudge([1, 10], (it) => base[it.criterion.name] + (it.response === 'long' ? 1 : 0));
    const r = await runWritingBench({ queries, specific, responses, judge, resamples: 200 });
    expect(judge.calls).toBe(6); // the C criteria are the same items: judged once
    expect(r.missing).toEqual(['3']);
    const q1 = [9, 7, 3];
    const q2 = [8, 2, 4];
    expect(r.perQuery.map((q) => q.score)).toEqual([19 / 3, 14 / 3]);
    expect(r.overall).toBeCloseTo([...q1, ...q2].reduce((a, b) => a + b) / 6, 12);
    expect(r.domain1).toMatchObject([{ name: 'Education', score: (19 / 3 + 14 / 3) / 2, queries: 2 }]);
    expect(r.domain1[0].low).toBeLessThanOrEqual(r.domain1[0].score as number);
    expect(r.domain2.map((d) => [d.name, d.score])).toEqual([
      ['Essays', 14 / 3],
      ['Lessons', 19 / 3],
    ]);
    expect(r.requirement).toEqual({ R: r.overall, C: (3 + 2) / 2, queries: 2 });
    expect(r.perQuery[0].criteria[2]).toEqual({ name: 'Length', score: 3, reason: 'r:Length', specific: true });
    expect(r.overallLow).toBeLessThanOrEqual(r.overall);
    expect(r.overallHigh).toBeGreaterThanOrEqual(r.overall);
  });

  it('takes overall over criteria and a domain over its queries, also when queries have different numbers of criteria', async () => {
    // query 1: A = 8; query 2: A, B, C = 8, 6, 4. Overall (8 + 8 + 6 + 4) / 4 = 6.5; Education (8 + 6) / 2 = 7
    const uneven = parsePromptSet(
      [wbRow(1, 'Education', 'Lessons', ['A']), wbRow(2, 'Education', 'Essays', ['A', 'B', 'C'])].join('\n'),
      'q.jsonl',
    ).rows;
    const judge = stubJudge([1, 10], (it) => base[it.criterion.name]);
    const r = await runWritingBench({ queries: uneven, responses, judge, resamples: 20 });
    expect(r.perQuery.map((q) => q.score)).toEqual([8, 6]);
    expect(r.overall).toBeCloseTo(6.5, 12);
    expect(r.domain1).toMatchObject([{ name: 'Education', score: 7, queries: 2 }]);
  });

  it('takes R over the queries the C file covers only, and judges two same-named criteria of a query apart', async () => {
    // all three queries answered, the C file covers query 1: R = query 1's criteria (9, 7, 3), C = its Length (3)
    const all = parseResponses(
      [1, 2, 3].map((i) => JSON.stringify({ index: i, query: `Query ${i}`, response: i === 1 ? 'long' : 'short' })).join('\n'),
      'r.jsonl',
    );
    const judge = stubJudge([1, 10], (it) => base[it.criterion.name] + (it.response === 'long' ? 1 : 0));
    const r = await runWritingBench({ queries, specific: specific.slice(0, 1), responses: all, judge, resamples: 20 });
    expect(r.requirement).toEqual({ R: 19 / 3, C: 3, queries: 1 });
    // a criterion is the whole checklist entry: same name, other description, judged on its own
    const twin = JSON.stringify({
      index: 1,
      domain1: 'Law',
      domain2: 'Contracts',
      query: 'Query 1',
      checklist: [
        { name: 'A', criteria_description: 'first' },
        { name: 'A', criteria_description: 'second' },
      ],
    });
    const byDescription = stubJudge([1, 10], (it) => (it.criterion.description === 'first' ? 2 : 6));
    const t = await runWritingBench({ queries: parsePromptSet(twin, 'q.jsonl').rows, responses: all, judge: byDescription, resamples: 10 });
    expect(byDescription.calls).toBe(2);
    expect(t.perQuery[0].criteria.map((c) => c.score)).toEqual([2, 6]);
    expect(t.overall).toBe(4);
  });

  it('refuses a C file whose criteria are not in the checklist', async () => {
    const bad = parsePromptSet(wbRow(1, 'Education', 'Lessons', ['Other']), 'c.jsonl').rows;
    await expect(runWritingBench({ queries, specific: bad, responses, judge: stubJudge([1, 10], () => 5) })).rejects.toThrow(
      /C file line 1: query 1's criterion "Other" is not in its checklist in the queries file \(line 1\)/,
    );
  });

  it('matches responses to queries once, and says which line answers none before any judging (a typed error)', async () => {
    const judge = stubJudge([1, 10], () => 5);
    const wrong = parseResponses(
      [
        { index: 2, query: 'Another text', response: 'x' },
        { index: 9, response: 'y' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
      'wrong.jsonl',
      { promptOptional: true },
    );
    const e = await runWritingBench({ queries, responses: wrong, judge }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NoMatchingResponseError);
    expect((e as NoMatchingResponseError).first.line).toBe(1);
    expect((e as NoMatchingResponseError).sameId?.id).toBe('2');
    expect((e as Error).message).toMatch(/response line 1 \(index "2"\) has the index of query line 2, whose text differs/);
    expect(judge.calls).toBe(0);
  });

  it('keeps a domain whose queries the judge scored none of, without a score', async () => {
    // every criterion of query 2 (Essays) unusable: Education keeps query 1's score, Essays has a row and no score
    const judge: CriteriaJudge = {
      ...stubJudge([1, 10], () => 5),
      async judgeAll(items) {
        return items.map((it) => ({ score: it.response === 'short' ? null : 5, reason: 'r', asks: 1, cached: false }));
      },
    };
    const r = await runWritingBench({ queries, responses, judge, resamples: 50 });
    expect(r.domain1).toEqual([expect.objectContaining({ name: 'Education', score: 5, queries: 1, unscored: 1 })]);
    expect(r.domain2).toEqual([
      { name: 'Essays', queries: 0, unscored: 1 },
      expect.objectContaining({ name: 'Lessons', score: 5, queries: 1 }),
    ]);
    const md = writingBenchMarkdown(r);
    expect(md).toMatch(/\| Essays \| - \| - \| 0 \| 1 \|/);
    expect(md).not.toMatch(/NaN|undefined/);
  });

  it('escapes the ids of queries without a response in report.md', async () => {
    const evil = parsePromptSet(
      [
        wbRow(1, 'Education', 'Lessons', ['A']),
        JSON.stringify({
          index: 'id|2\n- fake <img src=x onerror=alert(1)>',
          domain1: 'D',
          domain2: 'S',
          query: 'Q',
          checklist: [crit('A')],
        }),
      ].join('\n'),
      'q.jsonl',
    ).rows;
    const md = writingBenchMarkdown(await runWritingBench({ queries: evil, responses, judge: stubJudge([1, 10], () => 5), resamples: 20 }));
    expect(md).not.toMatch(/<img|\n- fake/);
    expect(md).toContain('- id|2 - fake &lt;img');
  });

  it('keeps a lone \\r and link syntax from query files as text in report.md', async () => {
    const evil = parsePromptSet(
      [
        wbRow(1, 'Education\r| forged | 9.9 |', 'Lessons', ['A']),
        JSON.stringify({ index: '[x](javascript:alert(1))', domain1: 'D', domain2: 'S', query: 'Q', checklist: [crit('A')] }),
      ].join('\n'),
      'q.jsonl',
    ).rows;
    const md = writingBenchMarkdown(await runWritingBench({ queries: evil, responses, judge: stubJudge([1, 10], () => 5), resamples: 20 }));
    expect(md).not.toMatch(/\r|x\]\(/);
    expect(md).toContain('| Education &#124; forged &#124; 9.9 &#124; |');
    expect(md).toContain('- [x\\](javascript:alert(1))');
  });
});

describe('LongBench-Write', () => {
  it('S_l follows the piecewise formula', () => {
    expect(lengthScore(1000, 1000)).toBe(100);
    expect(lengthScore(1000, 2500)).toBeCloseTo(100 * (1 - 1.5 / 3), 12); // over: 50
    expect(lengthScore(1000, 4000)).toBe(0); // 4x over
    expect(lengthScore(1000, 5000)).toBe(0); // 1 - 4/3 < 0: clipped
    expect(lengthScore(1000, 500)).toBeCloseTo(100 * (1 - 1 / 2), 12); // under: 50
    expect(lengthScore(1000, 250)).toBe(0);
    expect(lengthScore(1000, 0)).toBe(0);
    expect(() => lengthScore(0, 10)).toThrow(/required length must be positive/);
  });

  it('averages per answer and per bucket; S_q maps 1-5 to 0-100 over six dimensions', async () => {
    const answers = [
      { id: 'a', prompt: 'p1', required: 200, text: 'x', words: 200 },
      { id: 'b', prompt: 'p2', required: 1000, text: 'y', words: 500 },
      { id: 'c', prompt: 'p3', required: 5000, text: 'z', words: 7500 },
    ];
    const judge = stubJudge([1, 5], (it) => (it.criterion.name === 'Relevance' ? 5 : it.response === 'x' ? 3 : 1));
    const r = await runLongBenchWrite({ answers, judge, resamples: 100 });
    expect(judge.calls).toBe(3 * QUALITY_DIMENSIONS.length);
    expect(r.perAnswer.map((a) => a.S_l)).toEqual([100, 50, 100 * (1 - 0.5 / 3)]);
    expect(r.S_l).toBeCloseTo((100 + 50 + 100 * (1 - 0.5 / 3)) / 3, 12);
    expect(r.buckets.map((b) => [b.label, b.answers])).toEqual([
      ['[0, 500)', 1],
      ['[500, 2000)', 1],
      ['[2000, 4000)', 0],
      ['>=4000', 1],
    ]);
    expect(r.perAnswer[0].S_q).toBeCloseTo((100 + 5 * 50) / 6, 12);
    expect(r.perAnswer[1].S_q).toBeCloseTo(100 / 6, 12);
    expect(r.overall).toBeCloseTo(((r.S_l as number) + (r.S_q as number)) / 2, 12);
    // a bucket the judge scored no answer of has no S_q (not NaN); the overall says over how many S_q is
    const partial = await runLongBenchWrite({
      answers,
      judge: {
        ...judge,
        judgeAll: async (items) => items.map((it) => ({ score: it.response === 'z' ? null : 3, reason: 'r', asks: 1, cached: false })),
      },
      resamples: 20,
    });
    expect(partial.buckets.map((b) => [b.answers, b.S_q, b.S_qAnswers])).toEqual([
      [1, 50, 1],
      [1, 50, 1],
      [0, undefined, 0],
      [1, undefined, 0],
    ]);
    expect([partial.S_q, partial.S_qAnswers, partial.answers]).toEqual([50, 2, 3]);
    expect(partial.invalid).toBe(QUALITY_DIMENSIONS.length); // the six dimensions of answer z, left out
    expect(r.invalid).toBe(0);
    expect(partial.overall).toBeCloseTo(((100 + 50 + 100 * (1 - 0.5 / 3)) / 3 + 50) / 2, 12); // S_q over the scored answers only
    expect(longBenchMarkdown(partial)).toMatch(/S_q: 50 \[50, 50\] over the 2 answers the judge scored/);
    expect(longBenchMarkdown(partial)).not.toMatch(/NaN/);
    // bucket edges: [lo, hi), so a required length of exactly 500, 2000 or 4000 opens the next bucket
    const edges = await runLongBenchWrite({
      answers: [499, 500, 2000, 4000].map((required, i) => ({ id: `e${i}`, prompt: 'p', required, text: 't', words: required })),
      resamples: 10,
    });
    expect(edges.buckets.map((b) => b.answers)).toEqual([1, 1, 1, 1]);
    const plain = await runLongBenchWrite({ answers });
    expect(plain.S_q).toBeUndefined();
    expect(plain.overall).toBeUndefined();
    await expect(runLongBenchWrite({ answers, judge: stubJudge([1, 10], () => 1) })).rejects.toThrow(/needs a 1-5 judge/);
  });
});

describe('response files', () => {
  it('judges what the trainer scores (the answer block), keeps the first sample, matches by id or text', () => {
    const lines = [
      { id: 'p1', sample_index: 1, prompt: 'Write A', response: '<think>t</think><answer>second</answer>', answer: 'second' },
      { id: 'p1', sample_index: 0, prompt: 'Write A', response: '<think>plan plan</think><answer>first one</answer>', answer: 'first one' },
      // a sample line whose completion has no answer block: nothing to judge, 0 words (as the trainer counts it)
      { id: 'p2', prompt: 'Write B', response: '<think>only a plan, long enough to count</think>', answer: null },
      // the trainer's held-out lines: no answer field, the block is parsed from the response (the turn marker dropped)
      { id: 'p4', prompt: 'Write D', response: '<think>\nplan\n</think>\n<answer>\nthe real text 中文\n</answer><|im_end|>' },
      { id: 'p5', prompt: 'Write E', response: '<answer>direct answer</answer>' },
      { id: 'p6', prompt: 'Write F', response: '<think>a plan and no answer' },
      // another tool's output, no tags: all of it
      { id: 'p7', prompt: 'Write G', response: 'plain text 中文' },
      // a reasoning model's reply: the text after </think> (WritingBench's own scorer), also without the opening tag
      { id: 'p8', prompt: 'Write H', response: '<think>\nLet me plan\n</think>\n\nThe essay itself.' },
      { id: 'p9', prompt: 'Write I', response: 'reasoning only</think>Final text here' },
      // a text that mentions the tag, with no block: all of it
      { id: 'p10', prompt: 'Write J', response: 'Wrap it in <answer> tags, they said.' },
      // cut off inside the answer block (no </answer>), in the think or the direct template: the text after <answer>,
      // as `lwz-train sample` records it in `answer` (not the text after </think>, tag and all)
      { id: 'p11', prompt: 'Write K', response: '<think>\nthe plan\n</think>\n<answer>\nan answer cut off mid' },
      { id: 'p12', prompt: 'Write L', response: '<answer>direct and cut' },
      // <answer> inside an unclosed plan, or after other text: not our template's answer block
      { id: 'p13', prompt: 'Write M', response: '<think>plan: write <answer> then stop' },
    ];
    const set = parseResponses(lines.map((l) => JSON.stringify(l)).join('\n'), 'samples.jsonl');
    expect(set.extraSamples).toBe(1);
    expect(set.rows.map((r) => [r.id, r.text, r.textSource, r.words])).toEqual([
      ['p1', 'first one', 'answer', 2],
      ['p2', '', 'answer', 0],
      ['p4', 'the real text 中文', 'answer-block', 5],
      ['p5', 'direct answer', 'answer-block', 2],
      ['p6', '', 'after-think', 0],
      ['p7', 'plain text 中文', 'response', 4],
      ['p8', 'The essay itself.', 'after-think', 3],
      ['p9', 'Final text here', 'after-think', 3],
      ['p10', 'Wrap it in <answer> tags, they said.', 'response', 7],
      ['p11', 'an answer cut off mid', 'answer-block', 5],
      ['p12', 'direct and cut', 'answer-block', 3],
      ['p13', '', 'after-think', 0],
    ]);
    expect(textSources(set.rows)).toBe(
      "2 from the line's answer field, 4 from the <answer> block, 4 from the text after </think>, 2 from the whole response",
    );
    // a line without its answer field judges what the sample line's answer holds (parseCompletion, the one parser)
    for (const l of lines.filter((x) => x.response.includes('<answer>') && x.response.startsWith('<think>\n'))) {
      const own = set.rows.find((r) => r.id === l.id);
      expect([l.id, own?.text]).toEqual([l.id, parseCompletion(l.response, 'think').answer]);
    }
    const m = matchResponses(
      [
        { id: 'x', prompt: ' Write B ' },
        { id: 'p1', prompt: 'Write A' },
        { id: 'p3', prompt: 'Write C' },
      ],
      set,
    );
    expect(m.matched.map((r) => r?.id)).toEqual(['p2', 'p1', undefined]);
    // one response answers one prompt row: a second row with the same text gets none
    const twice = matchResponses(
      [
        { id: 'a', prompt: 'Write G' },
        { id: 'b', prompt: 'Write G' },
      ],
      set,
    );
    expect(twice.matched.map((r) => r?.id)).toEqual(['p7', undefined]);
    expect(() => parseResponses('{"prompt": "x"}\n', 'bad.jsonl')).toThrow(/bad\.jsonl:1.*"response"/);
  });
});
