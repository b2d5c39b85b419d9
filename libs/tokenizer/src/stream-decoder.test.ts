// Streaming decode: chunks never split a UTF-8 character, and their concatenation equals the one-shot decode,
// whatever the chunking. Uses a tiny byte-level tokenizer (one id per byte) so multi-byte characters always
// span several ids.
import { Rng } from '@lwz/core';
import { StreamDecoder } from './stream-decoder';

const byteIds = (text: string): number[] => Array.from(new TextEncoder().encode(text));
const bytesOf = (id: number): Uint8Array => Uint8Array.of(id);

describe('StreamDecoder', () => {
  it('holds back partial characters and emits each one whole', () => {
    const d = new StreamDecoder(bytesOf, () => false);
    const ids = byteIds('a世😀');
    const chunks = ids.map((id) => d.push(id));
    expect(chunks).toEqual(['a', '', '', '世', '', '', '', '😀']);
    expect(d.flush()).toBe('');
  });

  it('concatenates to the one-shot decode for random chunkings, BOM and invalid bytes included', () => {
    const rng = new Rng(9);
    const ids = [...byteIds('\ufeffhé 世界 👩‍👧 end'), 0xff, 0xe4, 0xb8, 0x41, 0xe4];
    const whole = new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(ids));
    for (let trial = 0; trial < 50; trial++) {
      const d = new StreamDecoder(bytesOf, () => false);
      let out = '';
      for (let i = 0; i < ids.length; ) {
        const n = 1 + rng.int(4);
        const chunk = d.push(ids.slice(i, i + n));
        expect(chunk).not.toMatch(/[\ud800-\udbff]$/); // never ends inside a surrogate pair
        out += chunk;
        i += n;
      }
      expect(out + d.flush()).toBe(whole);
    }
  });

  it('says when it holds the first bytes of a character: exactly when a one-shot decode of what it was fed ends in one more U+FFFD', () => {
    const rng = new Rng(4);
    // random bytes weighted to lead and continuation bytes, so open, completed, cut-short and invalid sequences all occur
    const pick = [0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe4, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0, 0xff, 0x8f, 0x90];
    for (let trial = 0; trial < 20; trial++) {
      const ids = Array.from({ length: 60 }, () => pick[rng.int(pick.length)]);
      const d = new StreamDecoder(bytesOf, () => false);
      let out = '';
      for (let i = 0; i < ids.length; ) {
        const n = 1 + rng.int(3);
        out += d.push(ids.slice(i, i + n));
        i += n;
        const whole = new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(ids.slice(0, Math.min(i, ids.length))));
        expect(whole).toBe(out + (d.holding ? '\uFFFD' : ''));
      }
      expect(out + d.flush()).toBe(new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(ids)));
      expect(d.holding).toBe(false);
    }
  });

  it('skips ids the predicate marks', () => {
    const d = new StreamDecoder(bytesOf, (id) => id === 0x21);
    expect(d.push(byteIds('hi!!')) + d.flush()).toBe('hi');
  });
});
