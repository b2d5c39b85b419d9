// init + score end to end on the tiny preset: the checkpoint has the Hugging Face files (and the tokenizer
// when given); scoring text or ids gives T-1 log-probs that agree with a padded-batch forward of the same
// checkpoint, near-uniform for a fresh init (std 0.02 weights: |mean + log V| is small), whatever the model
// runtime knobs (--runtime); bad inputs give messages that name the fix.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { tensor } from '@lwz/kernels';
import { loadModel } from '@lwz/model';
import { register as registerInit, run as runInit } from './init';
import { run as runScore } from './score';

/** A minimal byte-level BPE tokenizer.json: byte b has id b (GPT-2's byte-to-character table), one merge "l l" = 256. */
function byteTokenizer(): object {
  const printable = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const vocab: Record<string, number> = {};
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(printable(b) ? b : 256 + extra++)] = b;
  vocab['ll'] = 256;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: 'BPE', vocab, merges: ['l l'] },
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-cli-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizer()));
  runInit({ preset: 'tiny', out: join(dir, 'ckpt'), seed: 1, dtype: 'f32', tokenizer: join(dir, 'tokenizer.json') });
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

  it('scores a text file with the tokenizer copied into the checkpoint', () => {
    expect(existsSync(join(dir, 'ckpt', 'tokenizer.json'))).toBe(true);
    writeFileSync(join(dir, 'hello.txt'), 'hello');
    const r = runScore({ checkpoint: join(dir, 'ckpt'), textFile: join(dir, 'hello.txt') });
    expect(r.ids).toEqual([104, 101, 256, 111]); // h e ll o
    expect(r.logprobs).toHaveLength(3);
  });

  it('takes model runtime knobs from --runtime: the same scores with the vocabulary in 2-row chunks', () => {
    writeFileSync(join(dir, 'ids.json'), JSON.stringify([5, 17, 4095, 0, 300, 300, 12]));
    const idsFile = join(dir, 'ids.json');
    const whole = runScore({ checkpoint: join(dir, 'ckpt'), idsFile });
    const chunked = runScore({ checkpoint: join(dir, 'ckpt'), idsFile, runtime: [`logitBudget=${2 * 4096}`] });
    expect(chunked.logprobs).toBeAllClose(whole.logprobs, { atol: 1e-6, rtol: 0 });
    expect(() => runScore({ checkpoint: join(dir, 'ckpt'), idsFile, runtime: ['logitBudget=0'] })).toThrow(
      /invalid config from --runtime:\s+- logitBudget: Too small/,
    );
    expect(() => runScore({ checkpoint: join(dir, 'ckpt'), idsFile, runtime: ['budget=7'] })).toThrow(/--runtime[^]*budget/);
  });

  it('explains bad inputs', () => {
    const ckpt = join(dir, 'ckpt');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify([1, 2, 5000]));
    expect(() => runScore({ checkpoint: ckpt, idsFile: join(dir, 'bad.json') })).toThrow(
      `--ids-file ${join(dir, 'bad.json')}: token id 5000 at position 2 is outside the model's vocabulary (vocab_size 4096 in ${join(ckpt, 'config.json')}); give the ids the checkpoint's own tokenizer makes`,
    );
    writeFileSync(join(dir, 'bad.json'), '{"ids": [1, -2]}');
    expect(() => runScore({ checkpoint: ckpt, idsFile: join(dir, 'bad.json') })).toThrow(/non-negative integers/);
    expect(() => runScore({ checkpoint: ckpt })).toThrow(/exactly one of --text-file or --ids-file/);
    // --out "" (an unset variable) is refused before the model loads, not taken as "print to stdout"
    writeFileSync(join(dir, 'ok.json'), '[1, 2]');
    expect(() => runScore({ checkpoint: ckpt, idsFile: join(dir, 'ok.json'), out: '' })).toThrow(/--out is empty: give the JSON file/);
    runInit({ preset: 'tiny', out: join(dir, 'bare'), seed: 2, dtype: 'bf16' });
    writeFileSync(join(dir, 't.txt'), 'hello');
    expect(() => runScore({ checkpoint: join(dir, 'bare'), textFile: join(dir, 't.txt') })).toThrow(/no tokenizer.json.*--ids-file/);
    expect(() => runInit({ preset: 'nope', out: join(dir, 'x'), seed: 0, dtype: 'f32' })).toThrow(/unknown model preset "nope"/);
    // a tokenizer with more ids than the preset embeds: named, nothing written
    const wide = join(dir, 'wide');
    mkdirSync(wide);
    const json = byteTokenizer() as { added_tokens: { id: number; content: string; special: boolean }[] };
    json.added_tokens.push({ id: 4100, content: '<|past the preset|>', special: true });
    writeFileSync(join(wide, 'tokenizer.json'), JSON.stringify(json));
    expect(() => runInit({ preset: 'tiny', out: join(dir, 'w'), seed: 0, dtype: 'f32', tokenizer: wide })).toThrow(
      /--tokenizer .*wide: 4101 token ids, more than preset tiny's vocab_size 4096, so the model could not embed every id it gives/,
    );
    expect(existsSync(join(dir, 'w'))).toBe(false);
    // --tokenizer names a file: that file is copied (as tokenizer.json), not the tokenizer.json beside it
    const other = join(wide, 'other.json');
    writeFileSync(other, JSON.stringify(byteTokenizer()));
    writeFileSync(join(wide, 'tokenizer_config.json'), '{"eos_token": "<|endoftext|>"}');
    runInit({ preset: 'tiny', out: join(dir, 'named'), seed: 0, dtype: 'f32', tokenizer: other });
    expect(readFileSync(join(dir, 'named', 'tokenizer.json'), 'utf8')).toBe(readFileSync(other, 'utf8'));
    expect(readFileSync(join(dir, 'named', 'tokenizer_config.json'), 'utf8')).toContain('eos_token');
    // a folder train-tokenizer wrote is not replaced by a random checkpoint (its trained tokenizer kept), and the
    // error says how to use it
    const tokDir = join(dir, 'tok');
    mkdirSync(tokDir);
    writeFileSync(join(tokDir, 'tokenizer.json'), JSON.stringify(byteTokenizer()));
    writeFileSync(join(tokDir, 'tokenizer_config.json'), '{}');
    expect(() => runInit({ preset: 'tiny', out: tokDir, seed: 0, dtype: 'f32' })).toThrow(
      /--out .*tok holds a tokenizer .*which init would delete; .*pass it as --tokenizer .*tok and choose another --out/,
    );
    expect(readFileSync(join(tokDir, 'tokenizer.json'), 'utf8')).toBe(JSON.stringify(byteTokenizer()));
    expect(existsSync(join(tokDir, 'config.json'))).toBe(false);
    // a checkpoint (config.json beside its copied tokenizer) is still replaced by a rerun, as documented
    runInit({ preset: 'tiny', out: join(dir, 'named'), seed: 1, dtype: 'f32', tokenizer: other });
    expect(readFileSync(join(dir, 'named', 'tokenizer.json'), 'utf8')).toBe(readFileSync(other, 'utf8'));
    expect(() => runInit({ preset: 'tiny', out: join(dir, 'y'), seed: 0, dtype: 'f32', tokenizer: join(dir, 't.txt-missing') })).toThrow(
      /--tokenizer .*t\.txt-missing: no such file or directory/,
    );
  });

  it('takes --seed as decimal digits only ("" and "0x10" are not seeds 0 and 16)', async () => {
    const parse = (seed: string) => {
      const program = new Command().exitOverride();
      registerInit(program);
      return program.parseAsync(['init', '--preset', 'nope', '--out', join(dir, 'z'), '--seed', seed], { from: 'user' });
    };
    for (const bad of ['', ' ', '0x10', '1.5', 'abc']) await expect(parse(bad)).rejects.toThrow(`--seed must be an integer, got "${bad}"`);
    await expect(parse('16')).rejects.toThrow(/unknown model preset "nope"/); // the seed passed; the preset stops it before writing
    expect(existsSync(join(dir, 'z'))).toBe(false);
  });
});
