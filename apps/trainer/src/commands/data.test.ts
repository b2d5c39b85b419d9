// The data commands (moved from libs/data's entry points): corpus -> train-tokenizer on the corpus
// directory -> prepare shards, and prompts, through their pure run() functions; the tokenizer step trains on
// the corpus's train documents exactly as data prepare tokenizes them; bad options name the fix; and the
// real CLI wires the `data` group and exits non-zero on a bad option; a killed run's hidden temp folder is cleaned.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentText, readCorpusSplit, readShardIndex, tokenizerFileHash } from '@lwz/data';
import { toTokenizerJson, trainBpe } from '@lwz/tokenizer';
import { run as runCorpus } from './data-corpus';
import { run as runPrepare } from './data-prepare';
import { run as runPrompts } from './data-prompts';
import { run as runTrainTokenizer } from './train-tokenizer';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lwz-data-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const words = ['harbour', 'storm', 'island', 'captain', 'whale', 'morning', 'light', 'deep', 'water', 'crew'];
const doc = (i: number) =>
  JSON.stringify({ id: `d${i}`, title: `Doc ${i}`, text: Array.from({ length: 300 }, (_, j) => words[(i * 7 + j * 3) % 10]).join(' ') });

describe('lwz-train data corpus -> train-tokenizer -> data prepare', () => {
  it('builds the corpus, trains the tokenizer on its train documents, packs shards that match both', () => {
    const file = join(tmp, 'docs.jsonl');
    writeFileSync(file, Array.from({ length: 12 }, (_, i) => doc(i)).join('\n') + '\n');
    const corpus = join(tmp, 'corpus');
    const c = runCorpus({ out: corpus, builtin: 'none', file: [file], valFraction: '0.3', seed: '1' });
    expect(c.manifest.train.documents + c.manifest.val.documents).toBe(12);
    expect(c.manifest.val.documents).toBeGreaterThan(0);

    const tokDir = join(tmp, 'tokenizer');
    const t = runTrainTokenizer({ corpus: [corpus], vocabSize: 300, out: tokDir });
    expect(t.corpusFiles).toBe(1);
    const expected = trainBpe(readCorpusSplit(corpus, 'train').map(documentText), { vocabSize: 300, minFrequency: 2 });
    expect(JSON.parse(readFileSync(join(tokDir, 'tokenizer.json'), 'utf8'))).toEqual(toTokenizerJson(expected));

    const shards = join(tmp, 'shards');
    const { index } = runPrepare({ corpus, tokenizer: tokDir, out: shards, formatShare: 0 });
    expect(readShardIndex(shards)).toEqual(index);
    expect(index.tokenizerHash).toBe(tokenizerFileHash(join(tokDir, 'tokenizer.json')));
    expect(index.splits.train.docs).toHaveLength(c.manifest.train.documents);

    // an --out holding other files is refused before the corpus is read or tokenized: here the corpus is a folder of
    // the user's own texts, which would be named too, later
    const busy = join(tmp, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    const texts = join(tmp, 'my-texts');
    mkdirSync(texts);
    writeFileSync(join(texts, 'a.txt'), 'A story.');
    expect(() => runPrepare({ corpus: texts, tokenizer: tokDir, out: busy })).toThrow(
      /busy already exists and holds notes\.txt, which this output would delete/,
    );
    expect(() => runPrepare({ corpus: texts, tokenizer: tokDir, out: join(tmp, 'shards2') })).toThrow(
      /my-texts is not a corpus directory \(no train\.jsonl\): give the --out of `lwz-train data corpus` .*lwz-train data corpus --file .*my-texts --out/,
    );
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('names the problem in bad options', () => {
    expect(() => runCorpus({ out: join(tmp, 'x'), builtin: 'sotu,nope' })).toThrow(/builtin\.1: .*"sotu"\|"moby-dick"/);
    expect(() => runCorpus({ out: join(tmp, 'x'), builtin: 'none', valFraction: '1' })).toThrow(/--val-fraction/);
    expect(() => runPrepare({ corpus: tmp, tokenizer: join(tmp, 'nope.json'), out: join(tmp, 'y') })).toThrow(/nope\.json: no such file/);
  });

  it('refuses an --out inside a --file folder, whose corpus the next run would read back as documents', () => {
    const texts = join(tmp, 'texts');
    mkdirSync(texts);
    writeFileSync(join(texts, 'docs.jsonl'), Array.from({ length: 4 }, (_, i) => doc(i)).join('\n') + '\n');
    // a second run read texts/corpus/train.jsonl and val.jsonl as more documents: 4, then 8, then 12 (val rows in train)
    for (const out of [join(texts, 'corpus'), texts])
      expect(() => runCorpus({ out, builtin: 'none', file: [texts] })).toThrow(
        /--out .*texts.* is --file .*texts or lies inside it: .*choose an --out outside/,
      );
    expect(readdirSync(texts)).toEqual(['docs.jsonl']);
    // a sibling whose name starts with the folder's is outside it
    expect(runCorpus({ out: join(tmp, 'texts-corpus'), builtin: 'none', file: [texts] }).manifest.train.documents).toBeGreaterThan(0);
  });
});

describe('lwz-train data prompts', () => {
  it('writes train, held-out and manifest, deterministically by seed', () => {
    const a = runPrompts({ out: join(tmp, 'p1'), train: '20', heldout: '5', seed: '3' });
    runPrompts({ out: join(tmp, 'p2'), train: '20', heldout: '5', seed: '3' });
    expect(a).toMatchObject({ train: 20, heldout: 5, maxWords: 1280 });
    for (const f of ['train.jsonl', 'heldout.jsonl', 'manifest.json']) {
      expect(readFileSync(join(tmp, 'p1', f), 'utf8')).toBe(readFileSync(join(tmp, 'p2', f), 'utf8'));
    }
    expect(() => runPrompts({ out: join(tmp, 'p3'), train: '-1' })).toThrow(/train/);
    // a budget with no room, and a fraction the split cannot honour: named in the flags' words, as user errors
    expect(() => runPrompts({ out: join(tmp, 'p4'), train: '5', heldout: '3', contextTokens: '100' })).toThrow(
      /^length budget: a context of 100 tokens minus 256 reserved leaves -\d+ words .*raise the context \(--context-tokens/,
    );
    expect(() => runPrompts({ out: join(tmp, 'p5'), heldoutTopicFraction: '0' })).toThrow(/--heldout-topic-fraction: must be above 0/);
    expect(existsSync(join(tmp, 'p3'))).toBe(false);
  });

  it("removes the hidden temp folder a killed run of the same output left, once that run's process is gone", () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid; // what a killed run's temp name carries
    const leftover = join(tmp, `.p6.tmp-${dead}-1-0123456789ab`);
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'train.jsonl'), '{"prompt": "half a file');
    runPrompts({ out: join(tmp, 'p6'), train: '5', heldout: '2' });
    expect(existsSync(leftover)).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.includes('p6'))).toEqual(['p6']);
  });
});

describe('the lwz-train data command group', () => {
  it('runs from the real CLI and exits 1 naming the valid corpora', () => {
    const bin = join(root, 'node_modules', '.bin', 'lwz-train');
    const r = spawnSync(bin, ['data', 'corpus', '--out', join(tmp, 'z'), '--builtin', 'nope'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/builtin.*sotu.*moby-dick/s);
    expect(existsSync(join(tmp, 'z'))).toBe(false);
  });
});
