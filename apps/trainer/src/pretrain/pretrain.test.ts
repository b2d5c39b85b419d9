import { copyFileSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl, Rng } from '@lwz/core';
import { initModel, modelPreset, saveModel } from '@lwz/model';
import { tensor } from '@lwz/kernels';
import { readShardTokens, writeShards } from '@lwz/data';
import { toTokenizerJson, trainBpe } from '@lwz/tokenizer';
import { pretrainConfigSchema, resolvePretrainConfig, type PretrainConfig } from './config';
import { pretrainFixture, smallConfig, type PretrainFixture } from './testing';
import { SMALL_MODEL } from '../grpo/testing';
import { listCheckpoints } from '@lwz/training';
import { batchLoss, pretrainOptimizer, pretrainUpdate, runPretrain } from './run';
import { unigramEntropy } from './unigram';

function config(f: PretrainFixture, out: string, over: Partial<PretrainConfig> = {}): PretrainConfig {
  return pretrainConfigSchema.parse(smallConfig(f, out, over));
}

const quiet = { log: () => undefined, progress: false };

describe('pretraining', () => {
  const f = pretrainFixture();

  it('learns: validation loss ends far below the unigram entropy, with metrics, checkpoints, report and samples', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-run-')), 'run');
    const r = runPretrain(config(f, out, { steps: 60, evalEvery: 20, checkpointEvery: 30 }), quiet);
    const rows = readJsonl<Record<string, number>>(join(out, 'metrics.jsonl')).map((x) => x.value);
    expect(rows.map((x) => x.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const val = rows.filter((x) => 'val/loss' in x).map((x) => x['val/loss']);
    expect(val).toHaveLength(3);
    expect(r.valLoss).toBe(val[2]);
    expect(r.valLoss).toBeLessThan(0.6 * r.unigramEntropy);
    expect(rows[0]['train/loss']).toBeGreaterThan(Math.log(320) - 0.5); // starts near uniform
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([30, 60]);
    for (const file of [
      'config.json',
      'model.safetensors',
      'generation_config.json',
      'tokenizer.json',
      'optimizer.safetensors',
      'trainer_state.json',
    ]) {
      expect(existsSync(join(out, 'checkpoints', 'step-60', file))).toBe(true);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('final validation loss');
    expect(r.samples[0].text.length).toBeGreaterThan(0);
  });

  it('resumes after an interruption to exactly the weights of an uninterrupted run', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-resume-'));
    const over = { steps: 7, evalEvery: 3, checkpointEvery: 2, keepLast: 5 };
    runPretrain(config(f, join(base, 'straight'), over), quiet);
    const cut = config(f, join(base, 'cut'), over);
    runPretrain(cut, { ...quiet, stopAfter: 5 }); // dies after step 5; last checkpoint is step 4
    expect(listCheckpoints(cut.out).at(-1)?.step).toBe(4);
    const resumed = runPretrain(cut, quiet);
    expect(resumed.resumedFrom).toBe(4);
    const weights = (run: string) => readFileSync(join(base, run, 'checkpoints', 'step-7', 'model.safetensors'));
    expect(weights('cut').equals(weights('straight'))).toBe(true);
    const steps = readJsonl<{ step: number }>(join(cut.out, 'metrics.jsonl')).map((x) => x.value.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses to resume a run directory with a different config, and names missing shards', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-cfg-')), 'run');
    runPretrain(config(f, out, { steps: 2, checkpointEvery: 1, evalEvery: 2 }), quiet);
    expect(() => runPretrain(config(f, out, { steps: 2, checkpointEvery: 1, evalEvery: 2, lr: 5e-3 }), quiet)).toThrow(/different config/);
    expect(() => runPretrain(config(f, join(out, 'x'), { data: join(out, 'nope') }), quiet)).toThrow(/nope/);
    expect(existsSync(join(out, 'x'))).toBe(false); // named before the run directory is made
  });

  it('names a split shorter than one window and what to change', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-short-')), 'run');
    const val = readShardTokens(f.dataDir, 'val').length;
    const train = readShardTokens(f.dataDir, 'train').length;
    expect(val + 1).toBeLessThan(train); // a seqLen between them leaves a train window and no val window
    expect(() => runPretrain(config(f, out, { seqLen: val }), quiet)).toThrow(
      new RegExp(`the val split holds ${val} tokens, fewer than one window of seqLen \\+ 1 = ${val + 1}; raise .*--val-fraction`),
    );
    // a context that holds the window, so the split is what is named
    const long = config(f, out, { seqLen: train });
    const wide = { ...long, model: { ...long.model, overrides: { ...long.model.overrides, maxPositionEmbeddings: train } } };
    expect(() => runPretrain(wide, quiet)).toThrow(/the train split holds \d+ tokens, .* lower seqLen/);
  });

  it('names a val split without a document (one-document corpus, or --val-fraction 0) with the corpus fix, not seqLen', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-noval-'));
    const shards = join(base, 'shards');
    const idx = JSON.parse(readFileSync(join(f.dataDir, 'index.json'), 'utf8'));
    const ids = Array.from(readShardTokens(f.dataDir, 'train')).filter((t) => t !== idx.eotId);
    writeShards(shards, {
      eotId: idx.eotId,
      vocabSize: idx.vocabSize,
      tokenizerHash: idx.tokenizerHash,
      splits: { train: [{ id: 'only', title: 'only', ids }], val: [] },
    });
    const c = config(f, join(base, 'run'));
    expect(() => runPretrain({ ...c, data: shards }, quiet)).toThrow(
      /shards: the val split holds no document, so there is nothing to evaluate on; rebuild the corpus with --val-fraction above 0 from 2 documents or more/,
    );
    expect(existsSync(join(base, 'run'))).toBe(false);
  });

  it('names tokenizer given as the tokenizer.json file instead of its directory, with the directory to give', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-tokfile-')), 'run');
    const file = join(f.tokDir, 'tokenizer.json');
    expect(() => runPretrain({ ...config(f, out), tokenizer: file }, quiet)).toThrow(
      `tokenizer: ${file} is a file; give the directory holding tokenizer.json (--set tokenizer=${f.tokDir})`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a seqLen past the model's context (the preset's, or a start checkpoint's), before making the run directory", () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-seqlen-'));
    const c = config(f, join(base, 'run'));
    const narrow = { ...c, model: { ...c.model, overrides: { ...c.model.overrides, maxPositionEmbeddings: c.seqLen - 1 } } };
    expect(() => runPretrain(narrow, quiet)).toThrow(
      new RegExp(
        `^seqLen ${c.seqLen} is longer than the model's ${c.seqLen - 1}-token context .*model\\.preset tiny with model\\.overrides\\): lower seqLen .*raise model\\.overrides\\.maxPositionEmbeddings$`,
      ),
    );
    const short = join(base, 'short');
    const cfg = { ...modelPreset('tiny'), ...SMALL_MODEL, maxPositionEmbeddings: 16, vocabSize: 400, eosTokenId: 0, bosTokenId: 0 };
    saveModel(initModel(cfg, new Rng(1)), short, { tokenizer: f.tokDir });
    expect(() => runPretrain({ ...c, model: { ...c.model, init: short } }, quiet)).toThrow(
      /^seqLen \d+ is longer than the model's 16-token context \(max_position_embeddings of .*short\): .*start from a longer-context checkpoint$/,
    );
    expect(existsSync(join(base, 'run'))).toBe(false);
    // at the context exactly: trained
    expect(
      runPretrain(
        {
          ...narrow,
          model: { ...narrow.model, overrides: { ...c.model.overrides, maxPositionEmbeddings: c.seqLen } },
          steps: 1,
          evalEvery: 1,
          checkpointEvery: 1,
        },
        quiet,
      ).steps,
    ).toBe(1);
  });

  it('continues from a run directory (its newest checkpoint) as from that checkpoint, and names a directory that is neither', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-init-'));
    const first = join(base, 'first');
    runPretrain(config(f, first, { steps: 4, checkpointEvery: 2, evalEvery: 4 }), quiet);
    const newest = listCheckpoints(first).at(-1)?.dir as string;
    const cont = (out: string, init: string) => {
      const c = config(f, join(base, out), { steps: 2, checkpointEvery: 2, evalEvery: 2 });
      runPretrain({ ...c, model: { ...c.model, init } }, quiet);
      return readFileSync(join(base, out, 'checkpoints', 'step-2', 'model.safetensors'));
    };
    expect(cont('from-run', first).equals(cont('from-ckpt', newest))).toBe(true);
    expect(() => cont('from-nothing', base)).toThrow(/not a checkpoint directory .* nor a run directory/);
  });

  it('names a start checkpoint whose vocabulary is smaller than the tokenizer, before making the run directory', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-init-vocab-'));
    const small = join(base, 'small');
    saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 40, eosTokenId: 0, bosTokenId: 0 }, new Rng(1)), small);
    const c = config(f, join(base, 'run'));
    expect(() => runPretrain({ ...c, model: { ...c.model, init: small } }, quiet)).toThrow(
      /small: vocab_size 40 in its config\.json is smaller than the \d+ token ids of .*tokenizer\.json/,
    );
    expect(existsSync(join(base, 'run'))).toBe(false);
  });

  it("refuses a start checkpoint whose tokenizer.json gives ids to other tokens than the shards' tokenizer, before making the run directory", () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-init-tokenizer-'));
    const other = join(base, 'other');
    saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 400, eosTokenId: 0, bosTokenId: 0 }, new Rng(1)), other);
    // a BPE learnt from other text: the 256 byte ids agree, the merges after them do not
    const words = Array.from({ length: 200 }, (_, i) => `zebra${i % 7} quartz${i % 5} jumping`).join(' ');
    writeFileSync(join(other, 'tokenizer.json'), JSON.stringify(toTokenizerJson(trainBpe([words], { vocabSize: 320 }))));
    const c = config(f, join(base, 'run'));
    expect(() => runPretrain({ ...c, model: { ...c.model, init: other } }, quiet)).toThrow(
      /other[/\\]tokenizer\.json is not the tokenizer .*tokenizer\.json: id \d+ is ".*" in the checkpoint's and ".*" in the other, .*lwz-train data prepare --tokenizer/,
    );
    expect(existsSync(join(base, 'run'))).toBe(false);
    // the same tokenizer is taken
    copyFileSync(join(f.tokDir, 'tokenizer.json'), join(other, 'tokenizer.json'));
    expect(runPretrain({ ...c, steps: 1, evalEvery: 1, checkpointEvery: 1, model: { ...c.model, init: other } }, quiet).steps).toBe(1);
  });

  it('samples only ids the tokenizer decodes from a start checkpoint with more ids than the tokenizer (a padded embedding)', () => {
    const base = mkdtempSync(join(tmpdir(), 'lwz-init-padded-'));
    const padded = join(base, 'padded');
    saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 1280, eosTokenId: 0, bosTokenId: 0 }, new Rng(1)), padded);
    const c = config(f, join(base, 'run'), { steps: 2, evalEvery: 2, checkpointEvery: 2 });
    const samples = { prompts: ['the captain', 'the whale'], maxNewTokens: 16, temperature: 1 };
    const r = runPretrain({ ...c, samples, model: { ...c.model, init: padded } }, quiet);
    expect(r.steps).toBe(2);
    expect(r.samples).toHaveLength(2);
    expect(existsSync(join(base, 'run', 'report.html'))).toBe(true);
  });

  it('skips the step of a non-finite gradient: the weights and the moments stay as they were', () => {
    const model = initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 64 }, new Rng(2));
    const optim = pretrainOptimizer(model, { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
    const B = 2;
    const T = 8;
    const batch = { tokens: Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7) % 64), B, T, starts: [0, 9], epoch: 0 };
    expect(pretrainUpdate(model, optim, batch, 1e-3, 1).skipped).toBe(false); // a clean step first: moments are not zero
    const embed = model.store.get('model.embed_tokens.weight').value;
    const snapshot = () => model.trainableParams().map((p) => Array.from(p.value.toHost() as Float32Array));
    const moments = () => Object.values(optim.opt.state().tensors).map((t) => Array.from(t));
    (embed.f32 as Float32Array)[5] = Number.POSITIVE_INFINITY; // an overflow: the loss and every gradient go NaN
    const [weights, before] = [snapshot(), moments()];
    const r = pretrainUpdate(model, optim, batch, 1e-3, 1);
    expect([r.skipped, Number.isFinite(r.gradNorm)]).toEqual([true, false]);
    expect(snapshot()).toEqual(weights);
    expect(moments()).toEqual(before);
  });

  it('does not train or count padding predicting padding: the loss is the mean over the other targets, their gradient alone', () => {
    const model = initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 64 }, new Rng(2));
    const eot = 3;
    const B = 2;
    const T = 8;
    // row 0: a document, its eot, then alignment padding (eot eot eot); row 1: no padding, one document boundary
    const tokens = Int32Array.from([5, 9, 11, eot, eot, eot, 20, 21, 22, 30, 31, 32, 33, eot, 40, 41, 42, 43]);
    const batch = { tokens, B, T, starts: [0, 9], epoch: 0 };
    let all = new Float32Array(0);
    batchLoss(model, batch, false, (lp) => (all = Float32Array.from(lp)));
    const kept = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]; // targets 3 and 4 of row 0 are eot after eot
    const want = -kept.reduce((a, i) => a + all[i], 0) / kept.length;
    let masked = new Float32Array(0);
    expect(batchLoss(model, batch, false, (lp) => (masked = Float32Array.from(lp)), eot)).toBeCloseTo(want, 5);
    expect([masked[3], masked[4]]).toEqual([0, 0]);
    // the gradient, by linearity: 16 x (all 16 targets' mean) = 14 x (the 14 kept targets' mean) + (the 2 padding targets' sum)
    const optim = pretrainOptimizer(model, { beta1: 0.9, beta2: 0.95, weightDecay: 0 });
    const grads = (run: () => void) => {
      model.zeroGrad();
      run();
      return optim.grads.flatMap((g) => Array.from(g.toHost() as Float32Array));
    };
    const plain = grads(() => batchLoss(model, batch, true));
    const withPad = grads(() => batchLoss(model, batch, true, undefined, eot));
    const padOnly = grads(() => {
      const ids = Int32Array.from([...tokens.subarray(0, T), ...tokens.subarray(T + 1, 2 * T + 1)]);
      const targets = Int32Array.from({ length: B * T }, (_, i) => (i === 3 || i === 4 ? eot : -1));
      model.forwardLogprobs(
        { ids: tensor(ids, [B, T], { dtype: 'i32' }), targets: tensor(targets, [B, T], { dtype: 'i32' }) },
        { grad: true },
      );
      model.backward(tensor(new Float32Array(B * T).fill(-1), [B, T]));
    });
    expect(withPad).not.toEqual(plain);
    expect(plain.map((g) => 16 * g)).toBeAllClose(
      withPad.map((g, i) => 14 * g + padOnly[i]),
      { atol: 1e-5, rtol: 1e-4 },
    );
  });

  it('refuses a seqLen that would cut the format samples of shards placed for another window width', () => {
    const g = pretrainFixture();
    const indexPath = join(g.dataDir, 'index.json');
    writeFileSync(indexPath, JSON.stringify({ ...JSON.parse(readFileSync(indexPath, 'utf8')), formatWindow: 48 }));
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-window-')), 'run');
    expect(() => runPretrain(config(g, out, { seqLen: 32 }), quiet)).toThrow(
      /index\.json: its format samples were placed whole inside 48-token windows, and seqLen 32 is not a multiple of 48, .*--set seqLen=48.*--format-window 32/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an empty sample prompt before training, naming the field (it encodes to no tokens to continue)', () => {
    const samples = { prompts: ['the captain', ''], maxNewTokens: 8, temperature: 0 };
    expect(() => resolvePretrainConfig({ preset: 'tiny', overrides: { samples } })).toThrow(/samples\.prompts\.1: .*empty/);
  });

  it('computes the unigram entropy', () => {
    expect(unigramEntropy(Int32Array.from([1, 1, 2, 2]))).toBeCloseTo(Math.log(2), 12);
    expect(unigramEntropy(Int32Array.from([5, 5, 5]))).toBe(0);
  });
});
