// LocalRollout on a real (small, random, peaked) Qwen2 model and the byte-level test tokenizer: greedy
// answers equal the argmax of a full forward pass after every prefix; reported log-probs equal the full
// forward's log p(token | prefix) (1e-4); continuous batching and one-at-a-time generation give the same
// sampled answers for the same seed; the weights are held packed for the cpu GEMM only while generating, with
// the same answers as unpacked, and packed again after a reload; reloadWeights changes the policy in place and
// refuses another network's weights; generation_config.json's eos ids stop too; bad options are explained.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { addValueHead, initModel, saveModel, type Qwen2Model } from '@lwz/model';
import { KvBudgetError } from './engine';
import { parseGenerationConfig } from './generation-config';
import { defaultStopTokenIds, LocalRollout } from './local-backend';
import { Qwen2SlotModel } from './slot-model';
import { byteTokenizer, byteTokenizerJson } from './testing/byte-tokenizer';
import { smallTestConfig } from './testing/model-config';

const tok = byteTokenizer();
const config = smallTestConfig({ vocabSize: tok.vocabSize, maxPositionEmbeddings: 96, eosTokenId: tok.tokenToId('<|endoftext|>') });
const PROMPTS = ['Once upon a time', 'The answer is', 'Q'].map((text) => ({ text }));

function model(seed: number): Qwen2Model {
  return initModel(config, new Rng(seed));
}

/** KV bytes a cache position takes in the test model (k and v, f32, every layer). */
const rolloutKvBytes = () => 2 * 4 * config.numLayers * config.numKvHeads * config.headDim;

/** Argmax of the next-token logits after every prefix prompt + answer[:t], t = 0..len-1, in one padded batch. */
function argmaxAfterPrefixes(m: Qwen2Model, prompt: number[], answer: number[]): number[] {
  const seq = [...prompt, ...answer];
  const B = answer.length;
  const T = seq.length;
  const ids = new Int32Array(B * T);
  for (let b = 0; b < B; b++) ids.set(seq, b * T);
  const lengths = Array.from({ length: B }, (_, b) => prompt.length + b);
  m.forwardLogprobs(
    {
      ids: tensor(ids, [B, T], { device: m.device, dtype: 'i32' }),
      targets: tensor(new Int32Array(B * T), [B, T], { device: m.device, dtype: 'i32' }),
      lengths,
    },
    { lastLogits: true },
  );
  const logits = (m.lastLogits as NonNullable<typeof m.lastLogits>).toHost();
  const V = config.vocabSize;
  return lengths.map((_, b) => {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[b * V + j] > logits[b * V + best]) best = j;
    return best;
  });
}

describe('LocalRollout on a small random Qwen2', () => {
  it('greedy answers are the argmax of a full forward after every prefix; log-probs match a full forward', async () => {
    const m = model(1);
    const rollout = new LocalRollout(m, tok, { maxBatch: 4 });
    const result = await rollout.generate(PROMPTS, { n: 2, temperature: 0, maxNewTokens: 24, topLogprobs: 3 });
    for (const [p, group] of result.entries()) {
      const prompt = rollout.encode(PROMPTS[p]);
      const a = group[0];
      expect(group[1].tokenIds).toEqual(a.tokenIds);
      expect(a.tokenIds.length).toBeGreaterThan(0);
      expect(a.tokenIds).toEqual(argmaxAfterPrefixes(m, prompt, a.tokenIds));
      const full = m.sequenceLogprobs([...prompt, ...a.tokenIds]).slice(prompt.length - 1);
      expect(a.logprobs).toBeAllClose(full, { atol: 1e-4, rtol: 0 });
      expect(a.promptTokens).toBe(prompt.length);
      expect(a.finishReason).toBe(a.tokenIds.length === 24 ? 'length' : 'stop');
      // greedy: each token is the first of its 3 alternatives, which come most likely first
      expect(a.topLogprobs?.map((alts) => alts[0].id)).toEqual(a.tokenIds);
      expect(a.topLogprobs?.map((alts) => alts[0].logprob)).toEqual(a.logprobs);
      for (const alts of a.topLogprobs ?? []) expect(alts.map((t) => t.logprob)).toEqual(alts.map((t) => t.logprob).sort((x, y) => y - x));
    }
  });

  it('continuous batching gives the same sampled answers as one prompt at a time', async () => {
    const m = model(2);
    const options = { n: 3, temperature: 0.8, topP: 0.95, maxNewTokens: 20, seed: 9 };
    const batched = await new LocalRollout(m, tok, { maxBatch: 8 }).generate(PROMPTS, options);
    const single = await new LocalRollout(m, tok, { maxBatch: 1 }).generate(PROMPTS, options);
    expect(batched.map((g) => g.map((c) => c.tokenIds))).toEqual(single.map((g) => g.map((c) => c.tokenIds)));
    const distinct = new Set(batched.flat().map((c) => c.tokenIds.join()));
    expect(distinct.size).toBeGreaterThan(PROMPTS.length); // samples of one prompt differ
  });

  it("a prompt's random stream follows its index (default: its position), not its text", async () => {
    const rollout = new LocalRollout(model(2), tok, { maxBatch: 4 });
    const ids = (r: { tokenIds: number[] }[][]) => r.map(([c]) => c.tokenIds.join());
    const [first, second, third] = ids(
      await rollout.generate([PROMPTS[0], PROMPTS[0], { ...PROMPTS[0], index: 0 }], { maxNewTokens: 12, seed: 4 }),
    );
    expect(second).not.toBe(first);
    expect(third).toBe(first);
  });

  it('holds the weights packed only while generating, with the same answers as unpacked; a reload is packed again', async () => {
    const m = model(5);
    const options = { n: 2, temperature: 0.7, maxNewTokens: 12, seed: 3 };
    let heldWhileRunning = false;
    const onCompletion = (): void => void (heldWhileRunning ||= m.store.layer(0).q.packed != null);
    const packed = await new LocalRollout(m, tok, { maxBatch: 4 }).generate(PROMPTS, options, { onCompletion });
    expect(heldWhileRunning).toBe(m.device === 'cpu'); // only the cpu GEMM has a packed form
    expect(m.store.params.every((p) => p.packed == null)).toBe(true); // released once idle
    const plain = await new LocalRollout(m, tok, { maxBatch: 4, packWeights: false }).generate(PROMPTS, options);
    expect(packed.map((g) => g.map((c) => c.tokenIds))).toEqual(plain.map((g) => g.map((c) => c.tokenIds)));

    const slots = new Qwen2SlotModel(m);
    const fresh = new Qwen2SlotModel(model(6), false);
    for (const s of [slots, fresh]) s.resize(2, 16);
    const step = (s: Qwen2SlotModel): number[] => {
      s.clearSlot(0);
      s.clearSlot(1);
      return Array.from(s.forward(0, Int32Array.from([5, 9]), 1, [1, 1]).f32); // a batched decode step
    };
    step(slots); // its first batched decode step packs m's weights
    for (const p of m.store.params) p.value.f32.set(fresh.model.store.get(p.name).value.f32); // a reload in place
    const want = step(fresh);
    const stale = step(slots);
    slots.repack();
    expect(step(slots)).toBeAllClose(want, { atol: 1e-5, rtol: 0 });
    if (m.device === 'cpu') expect(stale).not.toBeAllClose(want, { atol: 1e-3, rtol: 0 }); // without repack: the old weights
    for (const s of [slots, fresh]) s.release();
  });

  it('reloadWeights swaps the policy in place; bad options are explained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-rollout-'));
    try {
      saveModel(model(4), join(dir, 'ckpt'));
      const m = model(3);
      const rollout = new LocalRollout(m, tok);
      const options = { temperature: 0, maxNewTokens: 8 };
      const before = await rollout.generate([PROMPTS[0]], options);
      rollout.reloadWeights(join(dir, 'ckpt'));
      const after = await rollout.generate([PROMPTS[0]], options);
      const fresh = await new LocalRollout(model(4), tok).generate([PROMPTS[0]], options);
      expect(after[0][0].tokenIds).toEqual(fresh[0][0].tokenIds);
      expect(after[0][0].tokenIds).not.toEqual(before[0][0].tokenIds);
      await expect(rollout.generate([PROMPTS[0]], { topP: 0 })).rejects.toThrow(/topP/);
      await expect(rollout.generate([{ text: 'x'.repeat(200) }])).rejects.toThrow(/no room left/);
      await expect(rollout.generate([{ ...PROMPTS[0], samples: [1, 3] }], { n: 3 })).rejects.toThrow(
        'prompt samples must be indices in [0, 3)',
      );
      // each prompt's answer is capped by its own room (a 90-token prompt leaves 6 of 96), not the batch's least
      const capped = await rollout.generate([PROMPTS[0], { text: 'x'.repeat(90) }], { temperature: 0, ignoreEos: true, maxNewTokens: 12 });
      expect(capped.map(([c]) => [c.tokenIds.length, c.finishReason])).toEqual([
        [12, 'length'],
        [6, 'length'],
      ]);
      // another network's weights are refused, not read into this one (an untied lm_head would be dropped)
      saveModel(initModel({ ...config, tieWordEmbeddings: !config.tieWordEmbeddings }, new Rng(4)), join(dir, 'other'));
      expect(() => rollout.reloadWeights(join(dir, 'other'))).toThrow(
        /other: its config.json describes another network than the running model: tieWordEmbeddings/,
      );
      saveModel(initModel({ ...config, ropeTheta: config.ropeTheta * 2 }, new Rng(4)), join(dir, 'rope'));
      expect(() => rollout.reloadWeights(join(dir, 'rope'))).toThrow(/ropeTheta/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks every prompt before queueing any: a refused one leaves nothing generating for a failed call', async () => {
    const rollout = new LocalRollout(model(3), tok, { kvBudgetBytes: 64 * rolloutKvBytes(), maxBatch: 4 });
    const finished: number[] = [];
    const long = { text: 'y'.repeat(70) }; // more tokens than one 64-position row of this budget holds
    await expect(
      rollout.generate([PROMPTS[0], PROMPTS[1], long], { maxNewTokens: 8 }, { onCompletion: (c) => finished.push(c.promptIndex) }),
    ).rejects.toThrow(/^prompt 2: KV budget .* cannot hold one answer/);
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toEqual([]);
    expect(rollout.engine.load).toEqual({ running: 0, queued: 0 });
    // the refusal is typed, with what a caller needs to restate it; a prompt that alone does not fit is named before
    // an earlier one that only asks too many new tokens (16 prompt tokens + 60 new overflow the 64 positions too)
    const refusal = await rollout.generate([PROMPTS[0], PROMPTS[1], long], { maxNewTokens: 60 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KvBudgetError);
    const { promptTokens, fit, call } = refusal as KvBudgetError;
    expect((refusal as Error).message).toMatch(/^prompt 2: KV budget .*: the prompt alone does not fit/);
    expect({ promptTokens, fit, promptIndex: call?.promptIndex }).toEqual({ promptTokens: 70, fit: 64 - 70 + 1, promptIndex: 2 });
    expect(call?.fitsEvery).toBe(fit);
  });

  it('stop ids: the config ids, the model and tokenizer eos unless ignoreEos, and stop strings that are added tokens only', () => {
    const id = (t: string) => tok.tokenToId(t) as number;
    const config = (over: object) =>
      parseGenerationConfig({ stop: ['e', '<|im_end|>', '</answer>', '<think>'], stopTokenIds: [5], ...over });
    // 'e' is one vocab token but not an added one: it stops as a string (finish.stop 'e'), not as an id
    const ids = defaultStopTokenIds(tok, [40, 41], config({}));
    expect([...ids].sort((a, b) => a - b)).toEqual([5, 40, 41, id('<|endoftext|>'), id('<|im_end|>'), id('<think>')].sort((a, b) => a - b));
    const ignoring = defaultStopTokenIds(tok, 40, config({ ignoreEos: true }));
    expect([...ignoring].sort((a, b) => a - b)).toEqual([5, id('<|im_end|>'), id('<think>')].sort((a, b) => a - b));
  });

  it("stops on generation_config.json's eos ids as well as config.json's", async () => {
    const options = { temperature: 0, maxNewTokens: 8 };
    const [[plain]] = await new LocalRollout(model(3), tok).generate([PROMPTS[0]], options);
    expect(plain.tokenIds.length).toBeGreaterThan(2);
    const second = plain.tokenIds[1];
    const withGenEos = initModel({ ...config, generationEosTokenId: [config.eosTokenId as number, second] }, new Rng(3));
    const [[stopped]] = await new LocalRollout(withGenEos, tok).generate([PROMPTS[0]], options);
    expect(stopped.tokenIds).toEqual(plain.tokenIds.slice(0, 2));
    expect(stopped.finishReason).toBe('stop');
  });

  it('fromCheckpoint names a tokenizer with ids past the vocabulary, and a reward model, before loading weights; a padded vocabulary is fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-rollout-vocab-'));
    try {
      const save = (name: string, vocabSize: number) => {
        const ckpt = join(dir, name);
        saveModel(initModel({ ...config, vocabSize }, new Rng(5)), ckpt);
        writeFileSync(join(ckpt, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
        return ckpt;
      };
      const narrow = save('narrow', tok.vocabSize - 1);
      expect(() => LocalRollout.fromCheckpoint(narrow)).toThrow(
        `${narrow}: vocab_size ${tok.vocabSize - 1} in its config.json is smaller than the ${tok.vocabSize} token ids of ${join(narrow, 'tokenizer.json')}`,
      );
      // a reward model (sample / serve --checkpoint runs/rm-tiny/model): named, not sampled through tied embeddings
      const rm = join(dir, 'rm');
      saveModel(addValueHead(initModel(config, new Rng(5)), new Rng(6)), rm);
      writeFileSync(join(rm, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
      expect(() => LocalRollout.fromCheckpoint(rm)).toThrow(
        `${rm} is a reward model (a sequence classifier with a value head, score.weight)`,
      );
      const padded = LocalRollout.fromCheckpoint(save('padded', tok.vocabSize + 64));
      const [answers] = await padded.generate([PROMPTS[0]], { temperature: 1, maxNewTokens: 6, seed: 2 });
      expect(answers[0].tokenIds.every((id) => id < tok.vocabSize)).toBe(true); // padded rows are never drawn
      await padded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
