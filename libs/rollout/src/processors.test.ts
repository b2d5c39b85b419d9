// Each logits processor against its definition, by hand or by a plain float64 reference written from the
// formula (not from processors.ts): the repetition penalty's two branches and one hit per id, min-p as
// p_T(j) >= minP * max p_T at the sampling temperature, top-k and top-p at their cut-off (ties, exact mass),
// greedy's single survivor, the chain's order, and rows with different top-k / top-p in one sampleTokens call.
// sampler.test.ts checks the draws against the chain itself; this file checks the chain.
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { parseGenerationConfig, type GenerationConfigInput } from './generation-config';
import {
  buildProcessors,
  MinPProcessor,
  RepetitionPenaltyProcessor,
  TemperatureProcessor,
  TokenSet,
  TopKProcessor,
  TopPProcessor,
} from './processors';
import { sampleTokens } from './sampler';

const chain = (over: GenerationConfigInput, vocabLimit?: number) => buildProcessors(parseGenerationConfig(over), vocabLimit);

/** Ids a processed row still allows (finite logits). */
const kept = (row: Float32Array): number[] => Array.from(row.keys()).filter((j) => row[j] > -Infinity);

function run(p: { process(l: Float32Array, h: TokenSet | null): void }, logits: number[], history: TokenSet | null = null): Float32Array {
  const row = Float32Array.from(logits);
  p.process(row, history);
  return row;
}

describe('RepetitionPenaltyProcessor', () => {
  it('divides a seen positive logit, multiplies a seen negative one, once per id however often it occurred', () => {
    // ids 0 (2 > 0) and 1 (-2 < 0, seen twice) and 4 (0) are in the history; 2 and 3 are not
    const history = new TokenSet(5, [0, 1, 1, 4, 1]);
    expect(Array.from(run(new RepetitionPenaltyProcessor(2), [2, -2, 1, 0.5, 0], history))).toEqual([1, -4, 1, 0.5, 0]);
    // a penalty below 1 is a bonus, and the chain keeps it
    expect(Array.from(run(new RepetitionPenaltyProcessor(0.5), [2, -2, 1, 0.5, 0], history))).toEqual([4, -1, 1, 0.5, 0]);
    expect(chain({ repetitionPenalty: 0.5 }).processors.map((p) => p.name)).toEqual(['repetition-penalty', 'temperature']);
  });
});

describe('MinPProcessor', () => {
  it('keeps p_T(j) >= minP * max p_T at the sampling temperature (by hand)', () => {
    // logits 0, -1, -2, -3 at minP 0.3: the floor is T ln 0.3 = -0.60 T, so T 0.5 keeps 1 id, T 1 two, T 2 three
    const logits = [0, -1, -2, -3];
    expect(kept(run(new MinPProcessor(0.3, 0.5), logits))).toEqual([0]);
    expect(kept(run(new MinPProcessor(0.3, 1), logits))).toEqual([0, 1]);
    expect(kept(run(new MinPProcessor(0.3, 2), logits))).toEqual([0, 1, 2]);
    // minP 1 keeps the most likely token (and its ties), never nothing
    expect(kept(run(new MinPProcessor(1, 0.7), [1, 3, -2, 3]))).toEqual([1, 3]);
  });

  it('agrees with softmax(l / T) computed in float64 on random rows', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const logits = Array.from({ length: 12 }, () => Math.fround(rng.normal() * 2));
      const T = [0.3, 0.7, 1, 1.5, 3][trial % 5];
      const minP = [0.01, 0.1, 0.3, 0.6][trial % 4];
      const e = logits.map((l) => Math.exp(l / T));
      const top = Math.max(...e);
      const want = logits.map((_, j) => j).filter((j) => e[j] >= minP * top);
      expect({ trial, kept: kept(run(new MinPProcessor(minP, T), logits)) }).toEqual({ trial, kept: want });
    }
  });

  it('in the chain, reads the penalised logits and the temperature set for sampling', () => {
    const row = Float32Array.from([0, -1, -2, -3]);
    chain({ temperature: 2, minP: 0.3 }).applyAll(row, null);
    expect(Array.from(row)).toEqual([0, -0.5, -1, -Infinity]);
    const penalised = Float32Array.from([0.5, -0.4, -1, -3]); // id 1 becomes -1.2 < 0.5 + ln 0.3 = -0.70
    chain({ temperature: 1, minP: 0.3, repetitionPenalty: 3 }).applyAll(penalised, new TokenSet(4, [1]));
    expect(kept(penalised)).toEqual([0]);
  });
});

describe('TemperatureProcessor, TopKProcessor, TopPProcessor', () => {
  it('temperature divides; temperature 0 keeps the argmax alone, the lowest id on ties', () => {
    expect(Array.from(run(new TemperatureProcessor(0.5), [1, -2, 0]))).toEqual([2, -4, 0]);
    expect(kept(run(new TemperatureProcessor(0), [1, 3, 3, -1]))).toEqual([1]);
  });

  it('top-k keeps the k highest, the lower id first on a tie at the cut-off', () => {
    expect(kept(run(new TopKProcessor(2), [2, 1, 1, 0]))).toEqual([0, 1]);
    expect(kept(run(new TopKProcessor(3), [-1, 4, 2, 2, 2]))).toEqual([1, 2, 3]);
  });

  it('top-p keeps the shortest ranked prefix holding >= topP of the mass (by hand)', () => {
    const probs = [0.05, 0.5, 0.15, 0.3];
    const logits = probs.map(Math.log);
    // ranked 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1
    expect(kept(run(new TopPProcessor(0.45), logits))).toEqual([1]);
    expect(kept(run(new TopPProcessor(0.75), logits))).toEqual([1, 3]);
    expect(kept(run(new TopPProcessor(0.9), logits))).toEqual([1, 2, 3]);
    expect(kept(run(new TopPProcessor(0.99), logits))).toEqual([0, 1, 2, 3]);
    // exactly topP of the mass is enough: 4 equal logits at topP 0.5 keep 2 (the lower ids)
    expect(kept(run(new TopPProcessor(0.5), [0, 0, 0, 0]))).toEqual([0, 1]);
  });

  it('top-p in the chain reads the tempered distribution', () => {
    // at T 0.5 the probabilities are p^2 normalised: 0.685, 0.247, 0.062, 0.007, so 0.9 is reached by 2 ids (3 at T 1)
    const row = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
    chain({ temperature: 0.5, topP: 0.9 }).applyAll(row, null);
    expect(kept(row)).toEqual([0, 1]);
  });
});

describe('buildProcessors', () => {
  it('orders the chain vocab limit, penalty, min-p, temperature, top-k, top-p; the last three are the fused tail', () => {
    const c = chain({ temperature: 0.8, topK: 5, topP: 0.9, minP: 0.05, repetitionPenalty: 1.3 }, 100);
    expect(c.processors.map((p) => p.name)).toEqual(['vocab-limit', 'repetition-penalty', 'min-p', 'temperature', 'top-k', 'top-p']);
    expect(c.host.map((p) => p.name)).toEqual(['vocab-limit', 'repetition-penalty', 'min-p']);
    expect(c.fused).toEqual({ temperature: 0.8, topK: 5, topP: 0.9 });
    expect(chain({ temperature: 0.8 }).fused).toEqual({ temperature: 0.8, topK: 0, topP: 1 });
    expect(chain({ temperature: 0.8, topK: 1 }).fused).toEqual({ temperature: 0.8, topK: 1, topP: 1 });
    expect(chain({ temperature: 0.8 }).host).toEqual([]);
  });
});

describe('sampleTokens with different tails in one call', () => {
  // one row where the argmax (id 2) holds 29 % of the mass
  const row = Float32Array.from([0.1, -0.3, 1.2, 0.6, 0.2, -0.5, 0.4, 0]);
  const argmax = 2;

  it.each([
    ['top-p', { topP: 0.25 }],
    ['top-k', { topK: 1 }],
  ])('each row draws under its own %s', (_, narrow) => {
    const wide = chain({ temperature: 1 });
    const tight = chain({ temperature: 1, ...narrow });
    const u = new Rng(8);
    const requests = Array.from({ length: 400 }, (_, i) => ({
      row: 0,
      chain: i % 2 ? tight : wide,
      uniform: u.next(),
      history: null,
      topLogprobs: 0,
    }));
    const out = sampleTokens(tensor(row, [1, 8]), requests);
    const tightIds = new Set(out.filter((_, i) => i % 2).map((t) => t.id));
    const wideIds = new Set(out.filter((_, i) => i % 2 === 0).map((t) => t.id));
    expect([...tightIds]).toEqual([argmax]);
    expect(wideIds.size).toBeGreaterThan(4);
  });
});
