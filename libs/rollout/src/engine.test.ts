// The engine on mock models (logits a hash of each slot's whole sequence, so any slot bookkeeping error
// changes later tokens): continuous batching, one-at-a-time generation, growth with preemption under a tiny
// KV budget all give the same answers for the same seed; each prompt is prefilled once and its KV copied to
// its samples; rows stay within maxBatch while finished rows leave and queued answers take their slots;
// greedy decoding is the argmax chain (of the penalised logits under a repetition penalty) and log-probs are the
// raw log-softmax; stop strings split across tokens (or ending inside one) stop at the right character, streamed
// deltas included.
import { parseGenerationConfig, type GenerationConfigInput } from './generation-config';
import { Engine, type EngineOptions } from './engine';
import type { Answer } from './answer';
import { promptSeed } from './rng-streams';
import { byteTokenizer } from './testing/byte-tokenizer';
import { HashModel, ScriptModel, type MockSlotModel } from './testing/mock-model';

const tok = byteTokenizer();
const V = tok.vocabSize;
const EOS = tok.tokenToId('<|endoftext|>') as number;
const PROMPTS = ['Write a poem.', 'A story about the sea', 'x', 'List three things', 'Describe an answer'].map((t) => tok.encode(t));

async function run(
  model: MockSlotModel,
  opts: EngineOptions,
  over: GenerationConfigInput,
  prompts = PROMPTS,
): Promise<{ answers: Answer[][]; engine: Engine }> {
  const engine = new Engine(model, tok, opts);
  const config = parseGenerationConfig({ seed: 7, ...over });
  const handles = prompts.map((promptIds, p) =>
    engine.submit({
      promptIds,
      requestSeed: promptSeed(config.seed, p),
      maxNewTokens: config.maxNewTokens ?? 40,
      config,
      stopTokenIds: [EOS],
    }),
  );
  return { answers: await Promise.all(handles.map((h) => h.done)), engine };
}

const summary = (answers: Answer[][]) =>
  answers.map((g) => g.map((a) => ({ ids: a.tokenIds, lp: a.logprobs, text: a.text, finish: a.finish })));

function logSoftmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const z = Array.from(row).reduce((s, x) => s + Math.exp(x - max), 0);
  return Array.from(row, (x) => x - max - Math.log(z));
}

describe('Engine (mock models)', () => {
  it('continuous batching, one-at-a-time and preempting runs give the same answers', async () => {
    const over = { n: 3, temperature: 0.9, topP: 0.95, maxNewTokens: 100 };
    const one = await run(new HashModel(V, 256, EOS, 0.06), { maxBatch: 1 }, over);
    const batched = new HashModel(V, 256, EOS, 0.06);
    const many = await run(batched, { maxBatch: 4 }, over);
    const tight = new HashModel(V, 256, EOS, 0.06);
    // 64 bytes per token: room for 3 rows of 64 tokens but 1 of 128, so rows growing past 64 preempt others
    const squeezed = await run(tight, { maxBatch: 4, kvBudgetBytes: 64 * 64 * 3 + 100, prefillChunk: 3 }, over);
    expect(summary(many.answers)).toEqual(summary(one.answers));
    expect(summary(squeezed.answers)).toEqual(summary(one.answers));
    expect(squeezed.engine.stats.preemptions).toBeGreaterThan(0);
    expect(batched.maxRowsSeen).toBeLessThanOrEqual(4);
    expect(batched.calls.some((c) => c.T === 1 && c.B === 4)).toBe(true);
    const lengths = one.answers.flat().map((a) => a.tokenIds.length);
    expect(new Set(lengths).size).toBeGreaterThan(3); // answers end at different lengths: rows really leave
    expect(one.answers.flat().every((a) => a.finish !== null)).toBe(true);
  });

  it('a queued prompt that needs a bigger cache does not preempt running answers to grow it', async () => {
    // found by a review: 64 bytes per token, room for 4 rows of 64 tokens or 2 of 128; four short answers run and
    // a 100-token prompt waits: the cache grew to 2 x 128 for it at once, preempting two running answers, which
    // went back to the queue ahead of it (it was not admitted), and the whole burst ran on 2 rows
    const model = new HashModel(V, 256, EOS, 0);
    const long = Array.from({ length: 100 }, (_, t) => t % 200);
    const prompts = [...[0, 1, 2, 3].map((i) => [10 + i, 20, 30]), long];
    const { answers, engine } = await run(model, { maxBatch: 4, kvBudgetBytes: 64 * 64 * 4 }, { maxNewTokens: 30 }, prompts);
    const one = await run(new HashModel(V, 256, EOS, 0), { maxBatch: 1 }, { maxNewTokens: 30 }, prompts);
    expect(summary(answers)).toEqual(summary(one.answers));
    expect(engine.stats.preemptions).toBe(0);
  });

  it('prefills each prompt once and copies its KV to the other samples', async () => {
    const model = new HashModel(V, 256, EOS);
    await run(model, { maxBatch: 16 }, { n: 4, temperature: 1 });
    const prefills = model.calls.filter((c) => c.T > 1);
    expect(prefills).toHaveLength(PROMPTS.filter((p) => p.length > 1).length);
  });

  it('greedy decoding follows the argmax of the model after every prefix; log-probs are the raw log-softmax', async () => {
    const model = new HashModel(V, 256, EOS);
    const { answers } = await run(model, { maxBatch: 3 }, { n: 2, temperature: 0, maxNewTokens: 30 });
    answers.forEach((group, p) => {
      expect(group[0].tokenIds).toEqual(group[1].tokenIds);
      const seq = [...PROMPTS[p]];
      group[0].tokenIds.forEach((id, t) => {
        const row = model.logitsAfter(seq);
        expect({ t, id }).toEqual({ t, id: row.indexOf(Math.max(...row)) });
        expect(group[0].logprobs[t]).toBeCloseTo(logSoftmax(row)[id], 5);
        seq.push(id);
      });
    });
  });

  it('greedy with a repetition penalty takes the argmax of the penalised logits (prompt and answer ids); log-probs stay raw', async () => {
    // a model that likes repeating itself (+2 on every id already in the sequence), so the penalty changes many choices
    class Repetitive extends HashModel {
      override logitsAfter(seq: readonly number[]): Float32Array {
        const row = super.logitsAfter(seq);
        for (const id of new Set(seq)) row[id] += 2;
        return row;
      }
    }
    const model = new Repetitive(V, 256, EOS);
    const penalty = 3;
    const { answers } = await run(model, { maxBatch: 3 }, { n: 2, temperature: 0, repetitionPenalty: penalty, maxNewTokens: 30 });
    let changed = 0;
    answers.forEach((group, p) => {
      expect(group[1].tokenIds).toEqual(group[0].tokenIds);
      const seq = [...PROMPTS[p]];
      group[0].tokenIds.forEach((id, t) => {
        const row = model.logitsAfter(seq);
        const seen = new Set(seq); // the CTRL / Hugging Face penalty by hand: l / p if l > 0 else l * p, once per seen id
        const penalised = Array.from(row, (l, j) => (seen.has(j) ? (l > 0 ? l / penalty : l * penalty) : l));
        const want = penalised.indexOf(Math.max(...penalised));
        if (want !== row.indexOf(Math.max(...row))) changed++;
        expect({ p, t, id }).toEqual({ p, t, id: want });
        expect(group[0].logprobs[t]).toBeCloseTo(logSoftmax(row)[id], 5);
        seq.push(id);
      });
    });
    expect(changed).toBeGreaterThan(10);
  });

  it("draws only ids the tokenizer decodes from a model padded past it; log-probs stay the whole row's", async () => {
    // 16 extra rows (as Qwen2.5's embedding is padded past its tokenizer) whose logits would win every draw
    class Padded extends HashModel {
      override logitsAfter(seq: readonly number[]): Float32Array {
        const row = super.logitsAfter(seq);
        row.fill(8, V);
        return row;
      }
    }
    const model = new Padded(V + 16, 256, EOS);
    for (const temperature of [0, 1]) {
      const { answers } = await run(model, { maxBatch: 3 }, { n: 2, temperature, maxNewTokens: 12, topLogprobs: 4 });
      answers.forEach((group, p) =>
        group.forEach((a) => {
          expect(a.tokenIds.length).toBeGreaterThan(0);
          expect(a.text).toBe(tok.decode(a.tokenIds));
          const seq = [...PROMPTS[p]];
          a.tokenIds.forEach((id, t) => {
            const row = model.logitsAfter(seq);
            expect({ temperature, t, drawable: id < V }).toEqual({ temperature, t, drawable: true });
            if (temperature === 0) expect(id).toBe(row.indexOf(Math.max(...row.subarray(0, V))));
            expect(a.logprobs[t]).toBeCloseTo(logSoftmax(row)[id], 5); // normalised over all V + 16 ids
            expect(a.top[t].map((x) => x.id).every((x) => x < V)).toBe(true);
            seq.push(id);
          });
        }),
      );
    }
  });

  it('stops on a stop string split across tokens or ending inside one, streaming only safe text', async () => {
    const prompt = tok.encode('go');
    const pieces = ['<think>', 'plan', '</think>', '<answer>', 'hi', ' th', 'er', 'e', '</', 'ans', 'wer', '>a', 'fter'];
    const script = pieces.map((p) => tok.tokenToId(p) ?? tok.encode(p)).flat();
    for (const includeStopString of [true, false]) {
      const engine = new Engine(new ScriptModel(V, 128, prompt.length, script), tok);
      const config = parseGenerationConfig({ temperature: 0, stop: ['</answer>', '<|im_end|>'], includeStopString });
      const deltas: string[] = [];
      const [a] = await engine.submit({
        promptIds: prompt,
        requestSeed: 1,
        maxNewTokens: 64,
        config,
        stopTokenIds: [EOS],
        onDelta: (_a, d) => deltas.push(d),
      }).done;
      const body = '<think>plan</think><answer>hi there';
      expect(a.text).toBe(includeStopString ? `${body}</answer>` : body);
      expect(a.finish).toMatchObject({ reason: 'stop', stop: '</answer>' });
      expect(a.tokenIds).toEqual(script.slice(0, script.indexOf(tok.tokenToId('>a') as number) + 1));
      // '</', 'ans', 'wer' are held back (they may start the stop string); the last delta is the stop or nothing
      expect(deltas.slice(0, -1).join('')).toBe(body);
      expect(deltas[deltas.length - 1]).toBe(includeStopString ? '</answer>' : '');
    }
  });

  it("a stop token's text is kept or dropped as includeStopString says; a length cut streams all its text, a split character as U+FFFD", async () => {
    const prompt = tok.encode('go');
    const generate = async (script: number[], over: GenerationConfigInput, maxNewTokens = 64) => {
      const deltas: string[] = [];
      const engine = new Engine(new ScriptModel(V, 128, prompt.length, script), tok);
      const config = parseGenerationConfig({ temperature: 0, stop: ['</answer>'], ...over });
      const spec = {
        promptIds: prompt,
        requestSeed: 1,
        maxNewTokens,
        config,
        stopTokenIds: [EOS],
        onDelta: (_a: Answer, d: string) => deltas.push(d),
      };
      const [a] = await engine.submit(spec).done;
      return { text: a.text, finish: a.finish, ids: a.tokenIds, streamed: deltas.join('') };
    };
    const hi = [...tok.encode('hi'), EOS, ...tok.encode('more')];
    for (const includeStopString of [true, false]) {
      const text = includeStopString ? 'hi<|endoftext|>' : 'hi';
      expect(await generate(hi, { includeStopString })).toEqual({
        text,
        finish: { reason: 'stop', stop: EOS },
        ids: hi.slice(0, 3),
        streamed: text,
      });
    }
    // cut by the cap while the text ends like the start of '</answer>': the held-back '</' is streamed at the end
    const cut = tok.encode('hi </');
    expect(await generate([...cut, ...tok.encode('answer>')], {}, cut.length)).toMatchObject({
      text: 'hi </',
      finish: { reason: 'length' },
      streamed: 'hi </',
    });
    // 'a' then the first two of the three bytes of '世' (ids are bytes): the cut leaves one U+FFFD, as decode() does
    const split = [0x61, 0xe4, 0xb8];
    expect(tok.decode(split)).toBe('a\ufffd');
    expect(await generate([...split, 0x96], {}, 3)).toMatchObject({ text: 'a\ufffd', finish: { reason: 'length' }, streamed: 'a\ufffd' });
  });

  it('caps answers at maxNewTokens (length) and at the context, and rejects prompts that do not fit', async () => {
    const model = new HashModel(V, 24, EOS);
    const engine = new Engine(model, tok);
    const config = parseGenerationConfig({ temperature: 1, ignoreEos: true });
    const prompt = tok.encode('twelve chars');
    const [capped] = await engine.submit({ promptIds: prompt, requestSeed: 3, maxNewTokens: 5, config, stopTokenIds: [] }).done;
    expect(capped.tokenIds).toHaveLength(5);
    expect(capped.finish).toEqual({ reason: 'length' });
    const [full] = await engine.submit({ promptIds: prompt, requestSeed: 3, maxNewTokens: 100, config, stopTokenIds: [] }).done;
    expect(full.tokenIds).toHaveLength(24 - prompt.length);
    expect(() => engine.submit({ promptIds: new Array(24).fill(1), requestSeed: 0, maxNewTokens: 1, config, stopTokenIds: [] })).toThrow(
      /no room/,
    );
  });

  it('admits a one-token answer of a 64-token prompt within the budget submit() accepted, without failing the others', async () => {
    // found by a review: admission asked one position more than such an answer ever writes, which grew the cache past
    // a 64-token block, beyond the budget, and failed every group then running
    const config = parseGenerationConfig({ temperature: 1, ignoreEos: true });
    const prompt = Array.from({ length: 64 }, (_, i) => 1 + (i % 50));
    const alone = new Engine(new HashModel(V, 256, EOS), tok, { kvBudgetBytes: 64 * 64 });
    const [one] = await alone.submit({ promptIds: prompt, requestSeed: 1, maxNewTokens: 1, config, stopTokenIds: [] }).done;
    expect([one.tokenIds.length, one.finish]).toEqual([1, { reason: 'length' }]);
    // beside a running group, in a 96-token budget: both finish
    const shared = new Engine(new HashModel(V, 256, EOS), tok, { kvBudgetBytes: 96 * 64 });
    const other = shared.submit({ promptIds: PROMPTS[0], requestSeed: 2, maxNewTokens: 20, config, stopTokenIds: [] });
    const short = shared.submit({ promptIds: prompt, requestSeed: 1, maxNewTokens: 1, config, stopTokenIds: [] });
    const [[a], [b]] = await Promise.all([other.done, short.done]);
    expect([a.tokenIds.length, b.tokenIds]).toEqual([20, one.tokenIds]);
  });

  it('check() refuses what submit() would, queueing nothing; ids outside the vocabulary are named', () => {
    const engine = new Engine(new HashModel(V, 64, EOS), tok, { kvBudgetBytes: 2000 });
    const config = parseGenerationConfig({});
    const spec = (promptIds: number[], maxNewTokens = 8) => ({ promptIds, requestSeed: 0, maxNewTokens, config, stopTokenIds: [] });
    expect(() => engine.check(spec([]))).toThrow('the prompt is empty (0 tokens)');
    expect(() => engine.check(spec([1, V + 3]))).toThrow(`prompt id ${V + 3} is outside the model's vocabulary [0, ${V})`);
    expect(() => engine.check(spec([1, 2], 40))).toThrow(/KV budget 2\.0 KiB cannot hold one answer .*: the prompt alone does not fit/);
    expect(engine.load).toEqual({ running: 0, queued: 0 });
    // a refusal says how many new tokens do fit: a 128-token row holds a 2-token prompt and 127 new (the last one's KV is never written)
    const twoRows = new Engine(new HashModel(V, 256, EOS), tok, { kvBudgetBytes: 128 * 64 });
    expect(twoRows.maxNewTokensWithinBudget(2)).toBe(127);
    expect(() => twoRows.check(spec([1, 2], 127))).not.toThrow();
    expect(() => twoRows.check(spec([1, 2], 128))).toThrow(/: ask for at most 127 new tokens, or raise the KV budget \(--kv-budget-mb/);
  });

  it('a cancelled group resolves and leaves the batch', async () => {
    const engine = new Engine(new HashModel(V, 256, EOS), tok, { maxBatch: 2 });
    const config = parseGenerationConfig({ n: 2, ignoreEos: true });
    const h = engine.submit({
      promptIds: PROMPTS[0],
      requestSeed: 1,
      maxNewTokens: 200,
      config,
      stopTokenIds: [],
      onDelta: (a) => a.tokenIds.length === 3 && h.cancel(),
    });
    const other = engine.submit({ promptIds: PROMPTS[1], requestSeed: 2, maxNewTokens: 10, config, stopTokenIds: [] });
    const [cancelled, done] = await Promise.all([h.done, other.done]);
    expect(Math.max(...cancelled.map((a) => a.tokenIds.length))).toBeLessThan(10);
    expect(done.map((a) => a.tokenIds.length)).toEqual([10, 10]);
    expect(engine.load).toEqual({ running: 0, queued: 0 });
  });
});
