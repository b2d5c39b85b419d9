// The sampler against the processed distribution: for each processor chain, 20,000 draws from one row of an
// 8-token vocabulary match softmax(chain applied on the host) by a chi-square test at p = 0.001 (fixed
// seeds), tokens the chain removes are never drawn, the fused kernel path picks the same ids as the all-host
// path for the same uniforms, and every reported log-prob is the RAW log-softmax (temperature 1, no filter);
// requests may name rows in any order; tied alternatives rank lower id first (the kernel's ranking rule).
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { parseGenerationConfig } from './generation-config';
import { buildProcessors, ProcessorChain, TemperatureProcessor, TokenSet } from './processors';
import { sampleTokens, type SampleRequest } from './sampler';

const V = 8;
const DRAWS = 20000;
/** chi-square 0.999 quantiles by degrees of freedom */
const CHI2_999 = [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32];

function softmax64(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const e = Array.from(row, (x) => (x === -Infinity ? 0 : Math.exp(x - max)));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

const CASES = [
  { temperature: 1 },
  { temperature: 0.7, topK: 4 },
  { temperature: 1.3, topP: 0.8 },
  { temperature: 0.9, minP: 0.1 },
  { temperature: 1, repetitionPenalty: 1.5 },
  { temperature: 0.8, topK: 5, topP: 0.9, minP: 0.05, repetitionPenalty: 1.3 },
];

describe('sampleTokens', () => {
  const rng = new Rng(5);
  const raw = Float32Array.from({ length: V }, () => rng.normal() * 1.5);
  const logits = tensor(raw, [1, V]);
  const history = new TokenSet(V, [1, 3, 3]);
  const rawLogSoftmax = softmax64(raw).map(Math.log);

  it.each(CASES)('draws from the processed distribution: %j', (over) => {
    const chain = buildProcessors(parseGenerationConfig(over));
    const processed = Float32Array.from(raw);
    chain.applyAll(processed, history);
    const expected = softmax64(processed);
    const u = new Rng(11);
    const requests: SampleRequest[] = Array.from({ length: DRAWS }, () => ({ row: 0, chain, uniform: u.next(), history, topLogprobs: 0 }));
    const drawn = sampleTokens(logits, requests);
    const counts = new Array<number>(V).fill(0);
    for (const t of drawn) counts[t.id]++;
    let chi2 = 0;
    let kept = 0;
    expected.forEach((p, j) => {
      if (p === 0) expect({ token: j, count: counts[j] }).toEqual({ token: j, count: 0 });
      else {
        kept++;
        chi2 += (counts[j] - DRAWS * p) ** 2 / (DRAWS * p);
      }
    });
    expect(chi2).toBeLessThan(CHI2_999[kept - 1] ?? 0);
    for (const t of drawn.slice(0, 50)) expect(t.logprob).toBeCloseTo(rawLogSoftmax[t.id], 5);
  });

  it('the fused kernel tail and the all-host chain pick the same ids for the same uniforms', () => {
    const chain = buildProcessors(parseGenerationConfig({ temperature: 0.7, topK: 6, topP: 0.85, repetitionPenalty: 1.2 }));
    expect(chain.host.map((p) => p.name)).toEqual(['repetition-penalty']);
    const processed = Float32Array.from(raw);
    chain.applyAll(processed, history);
    const plain = new ProcessorChain([new TemperatureProcessor(1)]);
    const u = new Rng(12);
    const uniforms = Array.from({ length: 2000 }, () => u.next());
    const fused = sampleTokens(
      logits,
      uniforms.map((uniform) => ({ row: 0, chain, uniform, history, topLogprobs: 0 })),
    );
    const host = sampleTokens(
      tensor(processed, [1, V]),
      uniforms.map((uniform) => ({ row: 0, chain: plain, uniform, history: null, topLogprobs: 0 })),
    );
    const same = fused.filter((t, i) => t.id === host[i].id).length;
    expect(same / uniforms.length).toBeGreaterThan(0.995);
  });

  it('greedy takes the argmax (after the penalty), mixed tails in one call, and top log-probs are the raw ones', () => {
    const rows = tensor(Float32Array.from([...raw, ...raw.map((x) => -x)]), [2, V]);
    const greedy = buildProcessors(parseGenerationConfig({ temperature: 0 }));
    const penalised = buildProcessors(parseGenerationConfig({ temperature: 0, repetitionPenalty: 10 }));
    const sampled = buildProcessors(parseGenerationConfig({ temperature: 2 }));
    const out = sampleTokens(rows, [
      { row: 0, chain: greedy, uniform: 0.5, history: null, topLogprobs: 3 },
      { row: 1, chain: greedy, uniform: 0.5, history: null, topLogprobs: 0 },
      { row: 0, chain: sampled, uniform: 0.999, history: null, topLogprobs: 0 },
      { row: 0, chain: penalised, uniform: 0.5, history: new TokenSet(V, [argmax(raw)]), topLogprobs: 0 },
    ]);
    expect(out[0].id).toBe(argmax(raw));
    expect(out[1].id).toBe(argmax(raw.map((x) => -x)));
    const top = argmax(raw);
    expect(out[3].id).toBe(argmax(raw.map((x, j) => (j !== top ? x : x > 0 ? x / 10 : x * 10))));
    const order = rawLogSoftmax.map((l, j) => ({ id: j, logprob: l })).sort((a, b) => b.logprob - a.logprob);
    expect(out[0].top?.map((t) => t.id)).toEqual(order.slice(0, 3).map((t) => t.id));
    expect(out[0].top?.map((t) => t.logprob)).toBeAllClose(
      order.slice(0, 3).map((t) => t.logprob),
      { atol: 1e-5, rtol: 0 },
    );
    expect(out[2].logprob).toBeCloseTo(rawLogSoftmax[out[2].id], 5);
  });

  it('requests may list the rows in any order, and top log-probs rank tied logits lower id first', () => {
    const rows = tensor(Float32Array.from([...raw, ...raw.map((x) => -x)]), [2, V]);
    const greedy = buildProcessors(parseGenerationConfig({ temperature: 0 }));
    const swapped = sampleTokens(rows, [
      { row: 1, chain: greedy, uniform: 0.5, history: null, topLogprobs: 0 },
      { row: 0, chain: greedy, uniform: 0.5, history: null, topLogprobs: 0 },
    ]);
    expect(swapped.map((t) => t.id)).toEqual([argmax(raw.map((x) => -x)), argmax(raw)]);
    // ids 1, 2 and 4 tie: log-probs ln(e^3 / z), z = e + 3 e^3 + 2 (by hand)
    const tied = tensor(Float32Array.from([1, 3, 3, 0, 3, 0, -Infinity, -Infinity]), [1, V]);
    const z = Math.E + 3 * Math.exp(3) + 2;
    const [two, four] = sampleTokens(
      tied,
      [2, 4].map((topLogprobs) => ({ row: 0, chain: greedy, uniform: 0.5, history: null, topLogprobs })),
    );
    expect(two.id).toBe(1);
    expect(two.top?.map((t) => t.id)).toEqual([1, 2]);
    expect(four.top?.map((t) => t.id)).toEqual([1, 2, 4, 0]);
    expect(four.top?.map((t) => t.logprob)).toBeAllClose(
      [3, 3, 3, 1].map((l) => l - Math.log(z)),
      { atol: 1e-5, rtol: 0 },
    );
  });
});

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < xs.length; j++) if (xs[j] > xs[best]) best = j;
  return best;
}
