// train-rm: the Bradley-Terry gradient through the value head and the whole network equals central finite
// differences of the loss; a short run on a small corpus learns (held-out accuracy up, the saved checkpoint is a
// sequence classifier the scores come back from), and a run stopped part-way and rerun ends with exactly the
// uninterrupted run's weights.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { writeCorpus } from '@lwz/data';
import { createBuiltinRmScorer } from '@lwz/judges';
import { copy as kcopy, tensor } from '@lwz/kernels';
import { addValueHead, initModel, loadModel, modelPreset, saveModel, type Param, type Qwen2Model } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { pretrainFixture } from '../pretrain/testing';
import { SMALL_MODEL } from '../grpo/testing';
import { rmConfigSchema } from './config';
import { streamBatch } from './pairs';
import { bradleyTerryStep, bradleyTerryTokenStep, lmLossStep, pairMicroBatches, scoreSequences } from './objective';
import { runTrainRm, trainingPairs } from './run';

function must<T>(x: T | null | undefined): T {
  if (x === null || x === undefined) throw new Error('expected a value');
  return x;
}

const f = pretrainFixture();
const tok = Tokenizer.fromFile(join(f.tokDir, 'tokenizer.json'));
const eot = must(tok.tokenToId('<|endoftext|>'));

function smallLm(seed: number): Qwen2Model {
  return initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: tok.vocabSize, eosTokenId: eot, bosTokenId: eot }, new Rng(seed));
}

/**
 * Each picked parameter's gradient (as `loss` last left it) at its largest-gradient coordinate, a clear signal
 * above float32 noise, equals the central finite difference of `loss`; tolerance 3 % of the gradient plus 1e-4
 * (float32 forward). `loss` zeroes and refills the gradients; each coordinate is restored after.
 */
function expectFiniteDifferences(picks: readonly Param[], loss: () => number): void {
  const grads = picks.map((p) => must(p.grad).toHost().slice());
  for (const [pi, p] of picks.entries()) {
    const values = (p.value.toHost() as Float32Array).slice(); // toHost may be a view of the weights
    let k = 0;
    for (let i = 0; i < grads[pi].length; i++) if (Math.abs(grads[pi][i]) > Math.abs(grads[pi][k])) k = i;
    const h = 1e-2;
    const at = (v: number) => {
      const copy = values.slice();
      copy[k] = v;
      const t = tensor(copy, p.shape, { device: p.value.device });
      kcopy(t, p.value);
      t.dispose();
      return loss();
    };
    const fd = (at(values[k] + h) - at(values[k] - h)) / (2 * h);
    at(values[k]);
    expect(Math.abs(fd - grads[pi][k])).toBeLessThan(0.03 * Math.abs(grads[pi][k]) + 1e-4);
  }
}

/** Texts encoded as the RM reads them: the tokens, then end-of-text. */
const withEnd = (texts: readonly string[]) => texts.map((t) => [...tok.encode(t), eot]);

/** The parameters the finite-difference checks probe: the value head, the embedding, an MLP projection. */
function probedParams(model: Qwen2Model): Param[] {
  const params = model.trainableParams();
  return [
    must(params.find((p) => p.name === 'score.weight')),
    must(params.find((p) => p.name === 'model.embed_tokens.weight')),
    must(params.find((p) => /mlp\.down_proj/.test(p.name))),
  ];
}

const subjects = ['The captain', 'The whale', 'The crew', 'The sea', 'The ship', 'The mate', 'The harbour'];
const verbs = ['watched', 'followed', 'feared', 'found', 'crossed', 'left'];
function doc(seed: number): string {
  const r = new Rng(seed);
  return Array.from({ length: 80 }, () => `${r.pick(subjects)} ${r.pick(verbs)} ${r.pick(subjects).toLowerCase()}.`).join(' ');
}

type Doc = { id: string; title: string; source: string; text: string };
/** A corpus directory of these splits (the manifest's provenance fields left empty). */
function writeTestCorpus(dir: string, train: Doc[], val: Doc[]): void {
  writeCorpus(dir, { train, val }, { format: 'lwz-corpus/1', options: {}, packages: {}, train: {}, val: {} } as never);
}

/** A run's start under root: a corpus of 8 generated documents (6 train, 2 val) and a small LM with the fixture's tokenizer. */
function smallStart(root: string): { corpus: string; init: string; docs: Doc[] } {
  const corpus = join(root, 'corpus');
  const docs = Array.from({ length: 8 }, (_, i) => ({ id: `d${i}`, title: `doc ${i}`, source: 'test', text: doc(i) }));
  writeTestCorpus(corpus, docs.slice(0, 6), docs.slice(6));
  const init = join(root, 'init');
  saveModel(smallLm(4), init, { tokenizer: f.tokDir });
  return { corpus, init, docs };
}

describe('train-rm', () => {
  it("distinctPairs cycles the stream's first N pairs; the training sample is the first pairs of each type trained on", () => {
    const docs = Array.from({ length: 6 }, (_, i) => doc(i).split(/(?<=\.) /));
    const opts = { words: [20, 40] as const, dropShare: 0.2 };
    const types = ['cut', 'drop', 'shuffle'] as const;
    const cfg = (over: Record<string, unknown>) =>
      rmConfigSchema.parse({ types, words: opts.words, pairsPerStep: 4, steps: 10, policySamples: 0, trainSamplePerType: 2, ...over });
    const stream = (s: number) => streamBatch(docs, 1, s, 4, types, opts);
    // fresh pairs: update s trains on the stream's step s; the sample is the first 2 of each type among them
    const fresh = trainingPairs(cfg({}), docs, types, opts, []);
    expect(fresh.batchAt(7)).toEqual(stream(7));
    const seen = [0, 1, 2, 3].flatMap(stream);
    expect(fresh.trainSample).toEqual(
      types.flatMap((t) => seen.filter((p) => p.type === t).slice(0, 2)).sort((a, b) => seen.indexOf(a) - seen.indexOf(b)),
    );
    // 10 distinct pairs: the first 10 of the stream, cycled 4 at a time
    const cycled = trainingPairs(cfg({ distinctPairs: 10 }), docs, types, opts, []);
    const pool = [0, 1, 2].flatMap(stream).slice(0, 10);
    expect(cycled.batchAt(0)).toEqual(pool.slice(0, 4));
    expect(cycled.batchAt(2)).toEqual([...pool.slice(8), ...pool.slice(0, 2)]);
    expect(cycled.batchAt(5)).toEqual(cycled.batchAt(0));
    expect(cycled.trainSample).toHaveLength(6);
    for (const p of cycled.trainSample) expect(pool).toContainEqual(p);
    expect(trainingPairs(cfg({ trainSamplePerType: 0 }), docs, types, opts, []).trainSample).toEqual([]);
  });

  it('Bradley-Terry gradients equal central finite differences of the loss', () => {
    const model = addValueHead(smallLm(1), new Rng(2), 0.5);
    const seqs = withEnd([
      'the captain watched the storm.',
      'storm the the captain',
      'the whale',
      'the sea found the island and the ship.',
    ]);
    const loss = () => {
      model.zeroGrad();
      return bradleyTerryStep(model, seqs, eot, 0.05).loss;
    };
    loss();
    expectFiniteDifferences(probedParams(model), loss);
    model.dispose();
  });

  it('the per-position loss: Bradley-Terry at the last token plus tokenCoef * the mean per-prefix cross-entropy; its gradients equal central finite differences', () => {
    const model = addValueHead(smallLm(5), new Rng(6), 0.5);
    const seqs = withEnd([
      'the captain watched the storm.',
      'storm the the captain watched',
      'the whale',
      'the sea found the island and the ship.',
    ]);
    const breaks = [seqs[0].length, 2, seqs[2].length, 3];
    const coef = 0.8;
    model.zeroGrad();
    const r = bradleyTerryTokenStep(model, seqs, breaks, eot, 0.05, coef);
    // independently: the Bradley-Terry part is bradleyTerryStep's loss, the token part the cross-entropy of each
    // prefix's own score (scoreSequences of the prefix: its last token) against its label
    const bt = bradleyTerryStep(model, seqs, eot, 0.05).loss;
    const prefixes = seqs.flatMap((s, k) => s.map((_, t) => ({ ids: s.slice(0, t + 1), y: t < breaks[k] ? 1 : 0 })));
    const v = scoreSequences(
      model,
      prefixes.map((p) => p.ids),
      eot,
    );
    const bce =
      prefixes.reduce((a, p, i) => a - (p.y ? Math.log(1 / (1 + Math.exp(-v[i]))) : Math.log(1 - 1 / (1 + Math.exp(-v[i])))), 0) /
      prefixes.length;
    expect(Math.abs(r.tokenLoss - bce)).toBeLessThan(1e-5);
    expect(Math.abs(r.loss - (bt + coef * bce))).toBeLessThan(1e-5);
    const loss = () => {
      model.zeroGrad();
      return bradleyTerryTokenStep(model, seqs, breaks, eot, 0.05, coef).loss;
    };
    loss();
    expectFiniteDifferences(probedParams(model), loss);
    model.dispose();
  });

  it('pairMicroBatches: every pair once, longest first, each group within the token budget unless a pair alone exceeds it', () => {
    // pair i's sequences have lengths lens[2i], lens[2i + 1]; longest per pair: 5, 9, 3, 9, 20, 1
    const lens = [5, 2, 9, 9, 1, 3, 4, 9, 20, 6, 1, 1];
    const seqs = lens.map((n) => Array.from({ length: n }, (_, t) => t));
    expect(pairMicroBatches(seqs, 36)).toEqual([[4], [1, 3], [0, 2, 5]]);
    expect(pairMicroBatches(seqs, Infinity)).toEqual([[4, 1, 3, 0, 2, 5]]);
    expect(pairMicroBatches(seqs, 1)).toEqual([[4], [1], [3], [0], [2], [5]]);
    for (const budget of [1, 10, 20, 36, 40, 80, 1000]) {
      const groups = pairMicroBatches(seqs, budget);
      expect(groups.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const g of groups) {
        const longest = Math.max(...g.flatMap((i) => [lens[2 * i], lens[2 * i + 1]]));
        if (g.length > 1) expect(2 * g.length * longest).toBeLessThanOrEqual(budget);
      }
    }
  });

  it('micro-batched updates give the one-batch loss, accuracy and gradients; scoreSequences gives each sequence its own score', () => {
    const model = addValueHead(smallLm(7), new Rng(8), 0.5);
    const seqs = withEnd([
      'the captain watched the storm over the sea and the ship.',
      'storm the the captain',
      'the whale',
      'whale',
      'the sea found the island and the ship and the crew.',
      'the sea found the island.',
      'the mate left the harbour.',
      'the harbour left the mate the.',
    ]);
    const breaks = [seqs[0].length, 1, seqs[2].length, 0, seqs[4].length, 3, seqs[6].length, 2];
    const params = model.trainableParams();
    const gradsOf = () => params.map((p) => must(p.grad).toHost().slice());
    // a budget that takes the longest pair alone, then two pairs, then the last one
    const longest = [0, 1, 2, 3].map((i) => Math.max(seqs[2 * i].length, seqs[2 * i + 1].length)).sort((a, b) => b - a);
    expect(longest[0]).toBeGreaterThan(longest[1]);
    const budget = 4 * longest[1];
    expect(pairMicroBatches(seqs, budget).map((g) => g.length)).toEqual([1, 2, 1]);
    for (const step of [
      (max: number) => bradleyTerryStep(model, seqs, eot, 0.05, max),
      (max: number) => bradleyTerryTokenStep(model, seqs, breaks, eot, 0.05, 0.8, max),
    ]) {
      model.zeroGrad();
      const whole = step(Infinity);
      const gWhole = gradsOf();
      model.zeroGrad();
      const split = step(budget);
      const gSplit = gradsOf();
      expect(Math.abs(split.loss - whole.loss)).toBeLessThan(1e-6);
      expect(split.accuracy).toBeCloseTo(whole.accuracy, 12);
      // float32 sums in another order: within 1e-5 of the largest gradient entry of each parameter
      gWhole.forEach((g, i) => {
        const scale = Math.max(...Array.from(g, Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let k = 0; k < g.length; k++) expect(Math.abs(gSplit[i][k] - g[k])).toBeLessThanOrEqual(1e-5 * scale);
      });
    }
    // length-sorted batches of 3: each sequence's score equals its score scored alone
    const batched = scoreSequences(model, seqs, eot, 3);
    seqs.forEach((s, i) => expect(Math.abs(batched[i] - scoreSequences(model, [s], eot)[0])).toBeLessThan(1e-5));
    model.dispose();
  });

  it('the auxiliary LM loss is the mean next-token NLL over the unpadded tokens, and its gradients equal central finite differences', () => {
    const model = addValueHead(smallLm(3), new Rng(4), 0.5);
    const seqs = withEnd(['the captain watched the storm and the sea.', 'the whale']);
    const coef = 0.7;
    // the NLL each row's own forward gives: padding (the shorter row) must not count
    const lps = seqs.flatMap((s) => model.sequenceLogprobs(s));
    const nll = -lps.reduce((a, b) => a + b, 0) / lps.length;
    const loss = () => {
      model.zeroGrad();
      return coef * lmLossStep(model, seqs, eot, coef);
    };
    expect(Math.abs(loss() / coef - nll)).toBeLessThan(1e-4);
    const params = model.trainableParams();
    const picks = [
      must(params.find((p) => p.name === 'model.embed_tokens.weight')),
      must(params.find((p) => /mlp\.down_proj/.test(p.name))),
    ];
    // the value head takes no part in the LM loss
    expect(Math.max(...Array.from(must(must(params.find((p) => p.name === 'score.weight')).grad).toHost(), Math.abs))).toBe(0);
    expectFiniteDifferences(picks, loss);
    model.dispose();
  });

  it('names too few usable policy answers for the "policy" pairs, with the fix, instead of failing inside the pair stream', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-rm-policy-'));
    const { corpus, init } = smallStart(root);
    // answers of one token never hold a whole sentence, so every sampled answer is dropped
    const cfg = rmConfigSchema.parse({
      out: join(root, 'run'),
      corpus,
      init,
      types: ['cut', 'policy'],
      words: [20, 40],
      steps: 2,
      heldoutPerType: 2,
      policySamples: 4,
      policyMaxNewTokens: 1,
    });
    await expect(runTrainRm(cfg, { log: () => undefined, progress: false })).rejects.toThrow(
      /0 of the 4 answers sampled .* hold a whole sentence .*raise policyMaxNewTokens/,
    );
  });

  it('learns on a small corpus, saves a sequence classifier, and resumes exactly', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lwz-rm-'));
    const { corpus, init, docs } = smallStart(root);
    const cfg = (out: string) =>
      rmConfigSchema.parse({
        out,
        corpus,
        init,
        types: ['cut', 'drop'],
        words: [20, 40],
        steps: 240,
        pairsPerStep: 8,
        lr: 1e-2,
        warmupSteps: 2,
        heldoutPerType: 8,
        evalEvery: 12,
        checkpointEvery: 6,
        policySamples: 0,
        trainSamplePerType: 8,
      });
    const straight = await runTrainRm(cfg(join(root, 'straight')), { log: () => undefined, progress: false });
    expect(straight.steps).toBe(240);
    expect(must(straight.checkpoint)).toBe(join(root, 'straight', 'model'));
    // the Bradley-Terry loss falls: mean of the last 10 steps below the first 10
    const rows = readFileSync(join(root, 'straight', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const losses = rows.map((r) => r['train/loss']);
    expect(rows.filter((r) => r['train_sample/accuracy/cut'] !== undefined).map((r) => r.step)).toEqual([
      12, 24, 36, 48, 60, 72, 84, 96, 108, 120, 132, 144, 156, 168, 180, 192, 204, 216, 228, 240,
    ]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.05);
    // the report's held-out curve starts at step 0, the accuracy before training (the plot's left edge, x = 64)
    const html = readFileSync(join(root, 'straight', 'report.html'), 'utf8');
    expect(html).toMatch(/<path d="M64\.0,[\d.]+L[^"]*" fill="none" stroke="#d62728"/);
    // a cut-off ending is visible at the scored token itself: learnt by one small layer, in 240 updates since cut
    // pairs are length-neutral (session 35; with the unfinished side always the longer, 80 sufficed, through length). Dropped words are not (both
    // sides of a drop pair end a sentence since session 35; before, the drop side often stopped mid-sentence and this
    // test read 0.75 on drop through the ending alone), nor repeats and shuffles on this corpus of look-alike sentences
    expect(must(must(straight.after).byType.cut).accuracy).toBeGreaterThanOrEqual(0.875);
    expect(must(must(straight.after).byType.drop).pairs).toBe(8);
    expect(Object.keys(must(straight.after).byType).sort()).toEqual(['cut', 'drop']);
    // the training-pair sample is scored beside: 8 pairs of each type, learnt as well as the held-out ones
    const trained = must(straight.trainSampleAfter);
    expect(Object.entries(trained.byType).map(([t, v]) => [t, v.pairs])).toEqual([
      ['cut', 8],
      ['drop', 8],
    ]);
    expect(must(trained.byType.cut).accuracy).toBeGreaterThanOrEqual(0.875);
    expect(trained).not.toEqual(straight.trainSampleBefore);
    const config = JSON.parse(readFileSync(join(must(straight.checkpoint), 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['Qwen2ForSequenceClassification']);
    // <out>/model is what the builtin-rm scorer loads: its raw scores are this model's value-head scores
    const rm = loadModel(must(straight.checkpoint));
    const texts = ['The crew found the mate. The ship left the sea.', 'The crew found the mate. The ship left'];
    const direct = scoreSequences(
      rm,
      texts.map((t) => [...tok.encode(t, { addSpecialTokens: false }), eot]),
      eot,
    );
    const scorer = createBuiltinRmScorer({ checkpoint: must(straight.checkpoint) });
    const scored = await scorer.score(texts.map((t) => ({ prompt: 'p', response: t, answer: t })));
    scored.forEach((x, i) => expect(Math.abs(must(x.raw) - direct[i])).toBeLessThan(1e-5));
    scorer.dispose();
    rm.dispose();

    const out = join(root, 'resumed');
    const partial = await runTrainRm(cfg(out), { log: () => undefined, progress: false, stopAfter: 9 });
    expect(partial.steps).toBe(9);
    // the corpus changed since the checkpoint: refused by its content, although the path is the same
    writeTestCorpus(corpus, docs.slice(1, 7), docs.slice(6));
    await expect(runTrainRm(cfg(out), { log: () => undefined, progress: false })).rejects.toThrow(
      /holds a run with a different config .*corpusFingerprint: "[0-9a-f]{16}" -> "[0-9a-f]{16}"/,
    );
    writeTestCorpus(corpus, docs.slice(0, 6), docs.slice(6));
    const rest = await runTrainRm(cfg(out), { log: () => undefined, progress: false });
    expect(rest.resumedFrom).toBe(6);
    expect(rest.before).toEqual(straight.before);
    expect(rest.trainSampleBefore).toEqual(straight.trainSampleBefore);
    expect(rest.trainSampleAfter).toEqual(straight.trainSampleAfter);
    const w = (dir: string) => readFileSync(join(dir, 'checkpoints', 'step-240', 'model.safetensors'));
    expect(w(out).equals(w(join(root, 'straight')))).toBe(true);

    // a val split of short documents (fewer than 4 sentences) gives no passage: named before anything runs
    const short = join(root, 'short-corpus');
    const tiny = { id: 'v', title: 'short', source: 'test', text: 'The crew found the mate. The ship left.' };
    writeTestCorpus(short, docs.slice(0, 6), [tiny]);
    await expect(runTrainRm({ ...cfg(join(root, 'short')), corpus: short }, { log: () => undefined, progress: false })).rejects.toThrow(
      /short-corpus: the val split has no document of 4 sentences or more, .* \(20-40 words\) .*--val-fraction/,
    );
    expect(existsSync(join(root, 'short'))).toBe(false); // named before the run directory is made
    // documents too short for the passage length: no held-out pair
    await expect(
      runTrainRm({ ...cfg(join(root, 'long-words')), words: [5000, 6000] }, { log: () => undefined, progress: false }),
    ).rejects.toThrow(/give no held-out pair of 5000-6000 words/);

    // a start checkpoint without its tokenizer, or with one it cannot embed: named before the run directory is made
    const bare = join(root, 'bare');
    saveModel(smallLm(5), bare);
    await expect(runTrainRm({ ...cfg(join(root, 'from-bare')), init: bare }, { log: () => undefined, progress: false })).rejects.toThrow(
      /bare has no tokenizer\.json .*: copy the tokenizer\.json and tokenizer_config\.json the checkpoint was trained with into it/,
    );
    const narrow = join(root, 'narrow');
    saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 40, eosTokenId: 0, bosTokenId: 0 }, new Rng(6)), narrow, {
      tokenizer: f.tokDir,
    });
    await expect(
      runTrainRm({ ...cfg(join(root, 'from-narrow')), init: narrow }, { log: () => undefined, progress: false }),
    ).rejects.toThrow(/narrow: vocab_size 40 in its config\.json is smaller than the \d+ token ids of .*tokenizer\.json/);
    // a reward model as the start (addValueHead would throw inside the run): named, with the fix
    await expect(
      runTrainRm({ ...cfg(join(root, 'from-rm')), init: must(straight.checkpoint) }, { log: () => undefined, progress: false }),
    ).rejects.toThrow(
      /^--init .*: .* is a reward model \(a sequence classifier .*\), not a language model; a reward model starts from a causal LM checkpoint such as runs\/pretrain-tiny$/,
    );
    expect(['from-bare', 'from-narrow', 'from-rm'].filter((d) => existsSync(join(root, d)))).toEqual([]);
  }, 120000);
});
