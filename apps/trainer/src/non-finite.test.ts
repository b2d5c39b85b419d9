// A start checkpoint whose weight bytes were overwritten, through each trainer (pretrain, GRPO, reward model): NaN
// bytes are refused at load, naming the file and the tensor; finite but huge bytes (the first forward overflows)
// stop the run at step 1 with a user error naming the step, the checkpoints kept and the likely causes, instead of
// training to a NaN loss and exiting 0. Nothing is logged or checkpointed for that step.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError, parseConfig } from '@lwz/core';
import { writeCorpus } from '@lwz/data';
import { initModel, modelPreset, saveModel } from '@lwz/model';
import { overwriteWeightBytes } from '@lwz/model/testing';
import { Tokenizer } from '@lwz/tokenizer';
import { grpoConfigSchema } from './grpo/config';
import { runGrpo } from './grpo/run';
import { grpoTestConfig, SMALL_MODEL } from './grpo/testing';
import { pretrainConfigSchema } from './pretrain/config';
import { runPretrain } from './pretrain/run';
import { pretrainFixture, smallConfig } from './pretrain/testing';
import { rmConfigSchema } from './rm/config';
import { runTrainRm } from './rm/run';

const quiet = { log: () => undefined, progress: false };
const f = pretrainFixture();
let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'lwz-non-finite-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A one-layer start checkpoint on the fixture's tokenizer, its weight bytes all `byte`. */
function damagedStart(byte: number): string {
  const tok = Tokenizer.fromFile(join(f.tokDir, 'tokenizer.json'));
  const eot = tok.tokenToId('<|endoftext|>') ?? 0;
  const dir = join(base, `start-${byte}`);
  saveModel(
    initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: tok.vocabSize, eosTokenId: eot, bosTokenId: eot }, new Rng(1)),
    dir,
    {
      tokenizer: f.tokDir,
    },
  );
  overwriteWeightBytes(dir, byte);
  return dir;
}

/** What the run left: no checkpoint, no metrics row. */
function leftNothing(out: string): void {
  expect(existsSync(join(out, 'checkpoints', 'step-1'))).toBe(false);
  const metrics = join(out, 'metrics.jsonl');
  expect(existsSync(metrics) ? readFileSync(metrics, 'utf8') : '').toBe('');
}

const stopped = (what: string, out: string, start: string, lrKey: string) =>
  new RegExp(
    `^${what} step 1: the loss is NaN \\(gradient norm NaN\\)\\. Stopped before this step's metrics and checkpoint: ${out} holds no checkpoint yet\\. ` +
      `Likely causes: non-finite or huge weights in ${start} \\(a corrupt or overwritten file: restore it, or start from another checkpoint\\), ` +
      `or a learning rate too high for this model \\([\\d.e+-]+ at this step: lower it with --set ${lrKey}=\\.\\.\\.\\)$`,
  );

async function failure(run: () => Promise<unknown> | unknown): Promise<Error> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as Error;
  }
  throw new Error('the run finished');
}

describe('a start checkpoint with overwritten weight bytes', () => {
  it('lwz-train pretrain: NaN bytes are refused at load, huge ones stop the run at step 1', async () => {
    const run = (start: string, out: string) => () =>
      runPretrain(parseConfig(pretrainConfigSchema, smallConfig(f, out, { steps: 2, model: { init: start } }), 'test'), quiet);
    const nan = damagedStart(0xff);
    expect((await failure(run(nan, join(base, 'a')))).message).toMatch(
      `${join(nan, 'model.safetensors')}: tensor "model.embed_tokens.weight" holds`,
    );
    const huge = damagedStart(0x7e);
    const out = join(base, 'b');
    expect((await failure(run(huge, out))).message).toMatch(stopped('lwz-train pretrain', out, huge, 'lr'));
    leftNothing(out);
  });

  it('lwz-train train (GRPO): huge weight bytes stop the run at step 1', async () => {
    const huge = damagedStart(0x7e);
    const out = join(base, 'grpo');
    const cfg = parseConfig(
      grpoConfigSchema,
      grpoTestConfig(out, { model: { init: huge, preset: 'tiny' }, steps: 2, evaluation: { prompts: 0 } }),
      'test',
    );
    expect((await failure(() => runGrpo(cfg, quiet))).message).toMatch(stopped('lwz-train train', out, huge, 'optim\\.lr'));
    leftNothing(out);
  });

  it('lwz-train train-rm: huge weight bytes stop the run at step 1', async () => {
    const huge = damagedStart(0x7e);
    const corpus = join(base, 'corpus');
    const text = (i: number) => Array.from({ length: 60 }, (_, k) => `The ship ${k % 2 ? 'left' : 'found'} harbour ${i + k}.`).join(' ');
    const docs = Array.from({ length: 6 }, (_, i) => ({ id: `d${i}`, title: `doc ${i}`, source: 'test', text: text(i) }));
    writeCorpus(corpus, { train: docs.slice(0, 4), val: docs.slice(4) }, { format: 'lwz-corpus/1' } as never);
    const out = join(base, 'rm');
    const cfg = rmConfigSchema.parse({
      out,
      corpus,
      init: huge,
      types: ['cut'],
      words: [20, 40],
      steps: 2,
      heldoutPerType: 2,
      policySamples: 0,
    });
    expect((await failure(() => runTrainRm(cfg, quiet))).message).toMatch(stopped('lwz-train train-rm', out, huge, 'lr'));
    leftNothing(out);
  });
});
