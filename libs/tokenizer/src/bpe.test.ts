// The two merge loops (scan and heap) must agree on every word, and both must match the reference through
// the real Qwen3 vocab; plus the byte alphabet's round trip and the model's load-time errors.
import { Rng } from '@lwz/core';
import { BYTE_TO_CHAR, byteLevelToBytes, textToByteLevel } from './byte-level';
import { BpeModel } from './bpe';
import { HAND_WRITTEN, randomUnicode } from './testing/corpus';
import { realTokenizerFile } from './testing/real-tokenizers';
import { readFileSync } from 'node:fs';

describe('byte-level alphabet', () => {
  it('maps 256 bytes to 256 distinct printable characters and back', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    for (const ch of BYTE_TO_CHAR) expect(/^\S$/u.test(ch)).toBe(true);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ'); // the space as every GPT-2 style vocab shows it
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    const text = 'héllo 世界 😀\n';
    expect(new TextDecoder().decode(byteLevelToBytes(textToByteLevel(text)) as Uint8Array)).toBe(text);
    expect(byteLevelToBytes('a b')).toBeNull();
  });
});

describe('BPE merge loops', () => {
  const model = new BpeModel(JSON.parse(readFileSync(realTokenizerFile('qwen3'), 'utf8')).model);

  it('scan and heap agree on prose, random Unicode and long repetitive words', () => {
    const rng = new Rng(3);
    const words = [
      ...HAND_WRITTEN.flatMap((t) => t.split(/(?= )/)),
      ...randomUnicode(5, 200, 60),
      'a'.repeat(257),
      ' '.repeat(99),
      Array.from({ length: 200 }, () => 'abcde'[rng.int(5)]).join(''),
    ];
    for (const w of words) expect({ w, ids: model.encodeUncached(w, 'heap') }).toEqual({ w, ids: model.encodeUncached(w, 'scan') });
  });

  it('encodes lone surrogates as U+FFFD, as TextEncoder (and so the reference) does', () => {
    expect(model.encodeUncached('a\ud800b')).toEqual(model.encodeUncached('a\ufffdb'));
    expect(model.encodeUncached('\udc00')).toEqual(model.encodeUncached('\ufffd'));
    expect(model.encodeUncached('😀')).toEqual(model.encodeUncached('\ud83d\ude00'));
  });

  it("writes TextEncoder's bytes at every UTF-8 length and surrogate boundary (a merge-less vocab: ids are bytes)", () => {
    const bytes = new BpeModel({ vocab: Object.fromEntries(BYTE_TO_CHAR.map((c, i) => [c, i])), merges: [] });
    const edges = ['\u007f', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}'];
    const surrogates = ['\ud800\udc00', '\udbff\udfff', '\udbff', '\udfff', 'a\udc00\ud800b', '\ud83d\ude00\ud83d'];
    for (const text of [...edges, ...surrogates, edges.join('')]) {
      expect({ text, ids: Array.from(bytes.encodeUncached(text)) }).toEqual({ text, ids: Array.from(new TextEncoder().encode(text)) });
    }
  });

  it('with ignore_merges, takes a word found whole in the vocab even where the merges would not build it', () => {
    const vocab: Record<string, number> = Object.fromEntries(BYTE_TO_CHAR.map((c, i) => [c, i]));
    vocab.ab = 256;
    vocab.abc = 257; // no merge makes 'abc'
    expect(Array.from(new BpeModel({ vocab, merges: ['a b'] }).encodeUncached('abc'))).toEqual([256, 99]);
    expect(Array.from(new BpeModel({ vocab, merges: ['a b'], ignore_merges: true }).encodeUncached('abc'))).toEqual([257]);
    expect(Array.from(new BpeModel({ vocab, merges: ['a b'], ignore_merges: true }).encodeUncached('abd'))).toEqual([256, 100]);
  });

  it('merges to a single vocab token when the word is in the vocab via merges', () => {
    expect(Array.from(model.encodeWord('Hello'))).toEqual([9707]);
    expect(Array.from(model.encodeWord(' world'))).toEqual([1879]);
  });

  it('names the broken merge when a merge uses an unknown token', () => {
    const vocab = Object.fromEntries(BYTE_TO_CHAR.map((c, i) => [c, i]));
    expect(() => new BpeModel({ vocab, merges: ['a b'] })).toThrow(/merges\[0\].*not in the vocab/);
    expect(() => new BpeModel({ vocab: { a: 0 }, merges: [] })).toThrow(/byte 0 .*missing/);
    expect(() => new BpeModel({ type: 'WordPiece', vocab, merges: [] })).toThrow(/WordPiece/);
  });
});
