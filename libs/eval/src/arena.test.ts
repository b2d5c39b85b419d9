// The arena end to end against the local test judge server: both orders judged, the better model rated
// higher, identical results under 30 % server faults, no call on a cached rerun; and the reward-model seam
// (a QualityScorer as a pairwise judge) with its verdicts cached on disk.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmClient } from '@lwz/llm-client';
import { startTestLlmServer, type TestLlmServer } from '@lwz/llm-client/testing';
import { ChatPairwiseJudge, pairwiseFromScorer, type PairwiseJudge, type VerdictLabel } from '@lwz/judges';
import { fakeJudgeResponder } from '@lwz/judges/testing';
import { createFunctionScorer } from '@lwz/rewards';
import { EMPTY_ANSWER_REASON, runArena, type ArenaPlayer, type ArenaPrompt } from './arena';
import { arenaInputs } from './arena-inputs';
import { parseResponses } from './responses';

const STRENGTH: Record<string, number> = { strong: 0.8, middle: 0.5, weak: 0.2 };
/** quality = the model's strength plus a per-answer wobble, read back from the answer text */
const quality = (t: string) => Number(/q=([\d.]+)/.exec(t)?.[1] ?? 0.5);

function fixture(prompts = 8): { prompts: ArenaPrompt[]; players: ArenaPlayer[] } {
  const ps: ArenaPrompt[] = Array.from({ length: prompts }, (_, i) => ({
    key: `Write piece ${i}.`,
    id: String(i),
    prompt: `Write piece ${i}.`,
  }));
  const players = Object.entries(STRENGTH).map(([name, s]) => ({
    name,
    kind: 'model' as const,
    answers: new Map(
      ps.map((p, i) => {
        const q = Math.min(1, Math.max(0, s + (((i * 37) % 7) - 3) * 0.06));
        const text = `${name} answer ${i} q=${q.toFixed(2)} ${'word '.repeat(20 + 10 * i)}`;
        return [p.key, { text, words: 24 + 10 * i }];
      }),
    ),
  }));
  return { prompts: ps, players };
}

let server: TestLlmServer;
afterEach(async () => server?.close());

const client = (cacheDir?: string) =>
  new LlmClient({
    baseUrls: server.baseUrl,
    model: 'test-model',
    timeoutMs: 1000,
    backoffBaseMs: 2,
    maxRetries: 10,
    cacheDir,
    id: 'arena-judge',
  });

describe('runArena with a chat judge', () => {
  it('judges each pair in both orders and ranks by quality; 30 % faults change nothing; a rerun makes no call', async () => {
    const f = fixture();
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality }) });
    const clean = await runArena({ ...f, judge: new ChatPairwiseJudge(client()), resamples: 100, seed: 1, lengthControl: true });
    // 3 pairs x 8 prompts x 2 orders, plus the re-asks of unusable first replies
    expect(clean.judgments).toHaveLength(48);
    const asks = server.calls;
    expect(asks).toBeGreaterThan(48);
    const orders = new Set(clean.judgments.map((j) => `${j.promptId}:${j.a}>${j.b}`));
    expect(orders.size).toBe(48);
    expect(clean.players.map((p) => p.name)).toEqual(['strong', 'middle', 'weak']);
    expect(clean.players[0].low).toBeLessThanOrEqual(clean.players[0].rating);
    expect(clean.winRates.values[0][2]).toBeGreaterThan(0.8); // strong beats weak
    expect(clean.winRates.values[0][0]).toBeNull();
    const meanRating = clean.players.reduce((s, p) => s + p.rating, 0) / 3;
    expect(meanRating).toBeCloseTo(1000, 6);
    expect(clean.players[0].lengthControlled?.rating).toBeGreaterThan(1000);
    await server.close();

    server = await startTestLlmServer({
      responder: fakeJudgeResponder({ quality }),
      faults: { rate: 0.3, seed: 9, kinds: ['http500', 'http503', 'hang', 'malformed', 'drop'] },
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-arena-cache-'));
    const faulty = await runArena({ ...f, judge: new ChatPairwiseJudge(client(cacheDir)), resamples: 100, seed: 1, lengthControl: true });
    expect(Object.values(server.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    expect(faulty).toEqual(clean);
    const calls = server.calls;
    const rerun = await runArena({ ...f, judge: new ChatPairwiseJudge(client(cacheDir)), resamples: 100, seed: 1, lengthControl: true });
    expect(server.calls).toBe(calls);
    expect(rerun).toEqual(clean);
  }, 60000);

  it('pairs models only with baselines when there are baselines, anchored to one of them', async () => {
    const f = fixture(4);
    f.players[2] = { ...f.players[2], kind: 'baseline' };
    server = await startTestLlmServer({ responder: fakeJudgeResponder({ quality, badFirstShare: 0 }) });
    const r = await runArena({ ...f, judge: new ChatPairwiseJudge(client(), { levels: 3 }), anchor: 'weak', resamples: 100 });
    expect(r.pairing).toBe('vs-baselines');
    expect(r.judgments).toHaveLength(2 * 4 * 2);
    expect(r.judgments.every((j) => j.a === 'weak' || j.b === 'weak')).toBe(true);
    expect(r.players.find((p) => p.name === 'weak')?.rating).toBeCloseTo(1000, 9);
    expect(r.winRates.values[0][1]).toBeNull(); // the two models never met
    expect(new Set(r.judgments.map((j) => j.label))).not.toContain('A>>B');
  });
});

describe('runArena with a judge that will not decide', () => {
  it('leaves verdict-less judgments out of the fit, counts them, and finishes', async () => {
    const f = fixture(4);
    // no label ever for the middle model's answers to prompt 0
    const fake = fakeJudgeResponder({ quality, badFirstShare: 0 });
    server = await startTestLlmServer({
      responder: (req) => (/middle answer 0 /.test(JSON.stringify(req.body)) ? 'cannot decide' : fake(req)),
    });
    const r = await runArena({ ...f, judge: new ChatPairwiseJudge(client(), { maxAttempts: 2 }), resamples: 100 });
    expect(r.invalid).toBe(4); // middle vs strong and vs weak, both orders
    expect(r.judgments.filter((j) => j.label === null).every((j) => j.promptId === '0' && j.scoreA === null)).toBe(true);
    expect(r.players.find((p) => p.name === 'middle')?.battles).toBe(2 * 2 * 4 - 4);
  });
});

describe('runArena with a scripted judge', () => {
  it('weighs strong verdicts by strongWeight in the fit and counts ties as half a win in the win rate', async () => {
    // prompt 0: x much better (x>>y in both orders, weight 3 each); prompt 1: y better (weight 1 each); prompt 2: a tie
    // in both orders. x's weighted score: 3 + 3 + 0 + 0 + 0.5 + 0.5 = 7 of 10 battles' weight -> odds 7 : 3
    const verdict = (prompt: string, aIsX: boolean): VerdictLabel =>
      prompt === 'p0' ? (aIsX ? 'A>>B' : 'B>>A') : prompt === 'p1' ? (aIsX ? 'B>A' : 'A>B') : 'A=B';
    const judge: PairwiseJudge = {
      id: 'scripted',
      levels: 5,
      cachesJudgments: true,
      judge: async (items) => items.map((it) => ({ label: verdict(it.prompt, it.a.startsWith('x')), reason: 'scripted' })),
    };
    const prompts: ArenaPrompt[] = ['p0', 'p1', 'p2'].map((p) => ({ key: p, id: p, prompt: p }));
    const players: ArenaPlayer[] = ['x', 'y'].map((name) => ({
      name,
      kind: 'model',
      answers: new Map(prompts.map((p) => [p.key, { text: `${name} on ${p.key}`, words: 10 }])),
    }));
    const r = await runArena({ prompts, players, judge, strongWeight: 3, l2: 0, resamples: 10 });
    const [x, y] = ['x', 'y'].map((n) => r.players.find((p) => p.name === n) as (typeof r.players)[number]);
    expect(x.rating - y.rating).toBeCloseTo(400 * Math.log10(7 / 3), 6);
    expect([x.wins, x.ties, x.losses]).toEqual([2, 2, 2]);
    expect(x.winRate).toBeCloseTo((2 + 2 / 2) / 6, 12);
    expect(r.winRates.values[0][1]).toBeCloseTo(0.5, 12); // unweighted: (2 + 1) / 6
  });
});

describe('runArena with a reward-model judge (pairwiseFromScorer)', () => {
  it('stores every verdict before use and judges nothing again on a rerun', async () => {
    const f = fixture(5);
    let scored = 0;
    const scorer = createFunctionScorer('fake-rm', (item) => {
      scored++;
      return quality(item.answer ?? item.response);
    });
    const cacheDir = mkdtempSync(join(tmpdir(), 'lwz-rm-arena-'));
    const first = await runArena({ ...f, judge: pairwiseFromScorer(scorer, { tieMargin: 0.05 }), cacheDir, resamples: 100 });
    expect(first.judge).toBe('scorer-pairwise:fake-rm/3/tie<0.05');
    expect(readdirSync(cacheDir).flatMap((d) => readdirSync(join(cacheDir, d)))).toHaveLength(30);
    expect(first.players[0].name).toBe('strong');
    const before = scored;
    const again = await runArena({ ...f, judge: pairwiseFromScorer(scorer, { tieMargin: 0.05 }), cacheDir, resamples: 100 });
    expect(scored).toBe(before);
    expect(again).toEqual(first);
  });
});

describe('arenaInputs', () => {
  it("reads Arena-Write's baseline_response (a string or an object of models), keeps the prompts all models answered, and counts what it left out", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-arena-in-'));
    const baselines = join(dir, 'arena_write.jsonl');
    writeFileSync(
      baselines,
      [
        { idx: 1, question: 'Write one.', baseline_response: { 'gpt-x': 'base one', 'r-y': 'other one' } },
        { idx: 2, question: 'Write two.', baseline_response: { 'gpt-x': 'base two', 'r-y': 'other two' } },
        { idx: 3, question: 'Write three.', baseline_response: { 'gpt-x': 'base three' } },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const model = (lines: object[]) => parseResponses(lines.map((l) => JSON.stringify(l)).join('\n'), 'm.jsonl');
    const a = model([
      { id: '1', prompt: 'Write one.', response: 'a1' },
      { id: '2', prompt: 'Write two.', response: 'a2' },
      { id: '3', prompt: 'Write three.', response: 'a3' },
    ]);
    const b = model([
      { prompt: 'Write one.', response: 'b1' },
      { prompt: 'Write three.', response: 'b3' },
      { prompt: 'Write one.', response: 'b1, a second answer' },
    ]);
    const inputs = arenaInputs(
      [
        { name: 'a', responses: a },
        { name: 'b', responses: b },
      ],
      baselines,
    );
    expect(inputs.players.map((p) => [p.name, p.kind, p.answers.size])).toEqual([
      ['a', 'model', 3],
      ['b', 'model', 2],
      ['gpt-x', 'baseline', 3],
      ['r-y', 'baseline', 2],
    ]);
    expect(inputs.prompts.map((p) => p.id)).toEqual(['1', '3']);
    expect(inputs.leftOut).toEqual({ a: 1, b: 0 });
    // b's repeated line is not judged (its first answer is) and b has no answer to "Write two.": both counted
    expect(inputs.players[1].answers.get('Write one.')?.text).toBe('b1');
    expect(inputs.repeated).toEqual({ a: 0, b: 1 });
    expect(inputs.unanswered).toEqual({ a: 0, b: 1 });
    writeFileSync(baselines, JSON.stringify({ idx: 7, question: 'Write one.', baseline_response: 'single' }));
    expect(arenaInputs([{ name: 'a', responses: a }], baselines).players.map((p) => p.name)).toEqual(['a', 'baseline']);
  });
});

describe('runArena with empty answers', () => {
  it('decides a pair with an empty answer without the judge: the other wins, two empty answers tie', async () => {
    const f = fixture(4);
    const [strong, middle, weak] = f.players;
    const blank = (p: ArenaPlayer, keys: string[], text: string): ArenaPlayer => ({
      ...p,
      answers: new Map([...p.answers].map(([k, a]) => [k, keys.includes(k) ? { text, words: 0 } : a])),
    });
    const k = f.prompts.map((p) => p.key);
    // prompt 0: strong's answer empty; prompt 1: strong's and middle's whitespace only
    const players = [blank(strong, [k[0], k[1]], ' \n\t'), blank(middle, [k[1]], ''), weak];
    const asked: { a: string; b: string }[] = [];
    const judge: PairwiseJudge = {
      id: 'counting',
      levels: 5,
      cachesJudgments: false,
      async judge(items) {
        asked.push(...items.map(({ a, b }) => ({ a, b })));
        return items.map(({ a, b }) => ({ label: (quality(a) >= quality(b) ? 'A>B' : 'B>A') as VerdictLabel, reason: 'by q' }));
      },
    };
    const r = await runArena({ prompts: f.prompts, players, judge, resamples: 100, seed: 1 });
    // 3 pairs x 4 prompts x 2 orders; on prompt 0 strong's two pairs, on prompt 1 all three, are not asked
    expect(r.judgments).toHaveLength(24);
    expect(r.emptyDecided).toBe(2 * 2 + 3 * 2);
    expect(asked).toHaveLength(24 - r.emptyDecided);
    expect(asked.every(({ a, b }) => a.trim() !== '' && b.trim() !== '')).toBe(true);
    const on = (id: string, a: string, b: string) => r.judgments.find((j) => j.promptId === id && j.a === a && j.b === b);
    expect(on('0', 'strong', 'weak')).toMatchObject({ label: 'B>A', scoreA: 0, reason: EMPTY_ANSWER_REASON });
    expect(on('0', 'weak', 'strong')).toMatchObject({ label: 'A>B', scoreA: 1, reason: EMPTY_ANSWER_REASON });
    expect(on('1', 'strong', 'middle')).toMatchObject({ label: 'A=B', scoreA: 0.5, reason: EMPTY_ANSWER_REASON });
    expect(on('1', 'middle', 'weak')).toMatchObject({ label: 'B>A', reason: EMPTY_ANSWER_REASON });
    expect(on('2', 'strong', 'weak')).toMatchObject({ label: 'A>B', reason: 'by q' });
    // the decided battles count in the tallies: strong loses both orders to middle and weak on prompt 0 and to weak
    // on prompt 1, ties middle there, and wins the 8 judged battles of prompts 2 and 3 (its q is the highest)
    const strongResult = r.players.find((p) => p.name === 'strong');
    expect(strongResult).toMatchObject({ battles: 16, wins: 8, ties: 2, losses: 6 });
  });
});

describe('runArena bookkeeping (scripted judges)', () => {
  const scripted = (winner: (prompt: string) => string): PairwiseJudge => ({
    id: 'scripted',
    levels: 5,
    cachesJudgments: true,
    judge: async (items) => items.map((it) => ({ label: it.a.startsWith(winner(it.prompt)) ? 'A>B' : 'B>A', reason: 'scripted' })),
  });
  const player = (name: string, words: Record<string, number>): ArenaPlayer => ({
    name,
    kind: 'model',
    answers: new Map(Object.entries(words).map(([p, w]) => [p, { text: `${name} on ${p}`, words: w }])),
  });

  it('fits the length coefficient with A longer = positive: 3 of 4 wins when longer, 1 of 4 when shorter', async () => {
    // x is longer (300 vs 100 words, x = +0.5) on p0-p3 and wins p0-p2; shorter (x = -0.5) on p4-p7 and wins p7 only.
    // Bradley-Terry with the covariate: d + g/2 = ln 3 and d - g/2 = -ln 3, so d = 0 and g = 2 ln 3 logits per unit of
    // x, 400 / ln 10 * 2 ln 3 = 800 log10(3) Elo (tolerance 0.01 Elo: the ridge is 1e-6)
    const keys = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
    const prompts: ArenaPrompt[] = keys.map((p) => ({ key: p, id: p, prompt: p }));
    const xWords = Object.fromEntries(keys.map((p, i) => [p, i < 4 ? 300 : 100]));
    const yWords = Object.fromEntries(keys.map((p, i) => [p, i < 4 ? 100 : 300]));
    const winner = (p: string) => (['p0', 'p1', 'p2', 'p7'].includes(p) ? 'x' : 'y');
    const r = await runArena({
      prompts,
      players: [player('x', xWords), player('y', yWords)],
      judge: scripted(winner),
      lengthControl: true,
      l2: 1e-6,
      resamples: 10,
    });
    expect(Math.abs((r.lengthCoefficient?.rating as number) - 800 * Math.log10(3))).toBeLessThan(0.01);
    for (const p of r.players) expect(Math.abs((p.lengthControlled?.rating as number) - 1000)).toBeLessThan(0.01);
  });

  it('counts a strong verdict once by default, and averages words over the prompts judged only', async () => {
    // x >> y on p0 and y > x on p1 (both orders): unweighted, 2 wins each, so equal ratings
    const strong: PairwiseJudge = {
      id: 'strong',
      levels: 5,
      cachesJudgments: true,
      judge: async (items) =>
        items.map((it) => ({
          label: it.prompt === 'p0' ? (it.a.startsWith('x') ? 'A>>B' : 'B>>A') : it.a.startsWith('x') ? 'B>A' : 'A>B',
          reason: 's',
        })),
    };
    const prompts: ArenaPrompt[] = ['p0', 'p1', 'p2'].map((p) => ({ key: p, id: p, prompt: p }));
    // x also answered p2, which y did not: no battle there, so its 1000 words are not part of x's average
    const r = await runArena({
      prompts,
      players: [player('x', { p0: 10, p1: 30, p2: 1000 }), player('y', { p0: 20, p1: 40 })],
      judge: strong,
      resamples: 10,
    });
    const [x, y] = ['x', 'y'].map((n) => r.players.find((p) => p.name === n) as (typeof r.players)[number]);
    expect(r.strongWeight).toBe(1);
    expect(Math.abs(x.rating - y.rating)).toBeLessThan(1e-6);
    expect([x.avgWords, y.avgWords]).toEqual([20, 30]);
    await expect(runArena({ prompts, players: [player('x', { p0: 1 }), player('x', { p0: 2 })], judge: strong })).rejects.toThrow(
      /player names must be unique, got x, x/,
    );
  });
});
