// init + score end to end on the tiny preset: the checkpoint has the Hugging Face files, scoring gives T-1
// log-probs that agree with a padded-batch forward of the same checkpoint, near-uniform for a fresh init
// (std 0.02 weights: |mean + log V| is small), and bad inputs give messages that name the fix.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@lwz/kernels';
import { loadModel } from '@lwz/model';
import { run as runInit } from './init';
import { run as runScore } from './score';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-cli-'));
  runInit({ preset: 'tiny', out: join(dir, 'ckpt'), seed: 1, dtype: 'f32' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lwz-train init / score', () => {
  it('writes config.json, model.safetensors and generation_config.json', () => {
    for (const f of ['config.json', 'model.safetensors', 'generation_config.json']) expect(existsSync(join(dir, 'ckpt', f))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'ckpt', 'config.json'), 'utf8'))).toMatchObject({ model_type: 'qwen2', vocab_size: 4096 });
  });

  it('scores an ids file: T-1 values, equal to the row of a padded batch', () => {
    const ids = [5, 17, 4095, 0, 300, 300, 12];
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ ids }));
    const out = join(dir, 'scores.json');
    const r = runScore({ checkpoint: join(dir, 'ckpt'), idsFile: join(dir, 'ids.json'), out });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(r);
    expect(r.ids).toEqual(ids);
    expect(r.logprobs).toHaveLength(ids.length - 1);
    const mean = r.logprobs.reduce((a, b) => a + b, 0) / r.logprobs.length;
    expect(Math.abs(mean + Math.log(4096))).toBeLessThan(0.5);
    // the same sequence as row 1 of a batch whose row 0 is longer
    const T = 9;
    const batchIds = new Int32Array(2 * T);
    const targets = new Int32Array(2 * T).fill(-1);
    for (let t = 0; t < T; t++) batchIds[t] = (t * 7) % 4096;
    ids.forEach((id, t) => {
      batchIds[T + t] = id;
      if (t + 1 < ids.length) targets[T + t] = ids[t + 1];
    });
    const model = loadModel(join(dir, 'ckpt'));
    const { logprobs } = model.forwardLogprobs({
      ids: tensor(batchIds, [2, T], { device: model.device, dtype: 'i32' }),
      targets: tensor(targets, [2, T], { device: model.device, dtype: 'i32' }),
      lengths: [T, ids.length],
    });
    expect(Array.from(logprobs.toHost()).slice(T, T + ids.length - 1)).toBeAllClose(r.logprobs, { atol: 1e-5, rtol: 0 });
  });

  it('explains bad inputs', () => {
    const ckpt = join(dir, 'ckpt');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([1, 2, 5000]));
    expect(() => runScore({ checkpoint: ckpt, idsFile: join(dir, 'bad.json') })).toThrow(/5000 at position 2 is outside/);
    writeFileSync(join(dir, 'bad.json'), '{"ids": [1, -2]}');
    expect(() => runScore({ checkpoint: ckpt, idsFile: join(dir, 'bad.json') })).toThrow(/non-negative integers/);
    expect(() => runScore({ checkpoint: ckpt })).toThrow(/exactly one of --text-file or --ids-file/);
    writeFileSync(join(dir, 't.txt'), 'hello');
    expect(() => runScore({ checkpoint: ckpt, textFile: join(dir, 't.txt') })).toThrow(/no tokenizer.json.*--ids-file/);
    expect(() => runInit({ preset: 'nope', out: join(dir, 'x'), seed: 0, dtype: 'f32' })).toThrow(/unknown model preset "nope"/);
  });
});
