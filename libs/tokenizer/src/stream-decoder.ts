// Streaming decode for generated text: ids arrive one or a few at a time and each push returns the text that
// is complete so far. Bytes of a UTF-8 character split across tokens are held until the character is whole;
// invalid bytes become U+FFFD exactly as a one-shot decode would. Not a detokenizer of its own (tokenizer.ts).
import { utf8Sequence } from '@lwz/core';

export class StreamDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  /** the last bytes fed (at most 3: a character still open holds no more) */
  private readonly tail: number[] = [];

  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly skip: (id: number) => boolean,
  ) {}

  /** Feed ids; returns the newly completed text (possibly empty). */
  push(ids: number | readonly number[]): string {
    const list = typeof ids === 'number' ? [ids] : ids;
    let total = 0;
    const parts: Uint8Array[] = [];
    for (const id of list) {
      if (this.skip(id)) continue;
      const b = this.bytesOf(id);
      parts.push(b);
      total += b.length;
      // kept in place (this runs for every generated token): append the id's last bytes, drop all but the last three
      for (let k = Math.max(0, b.length - 3); k < b.length; k++) this.tail.push(b[k]);
      if (this.tail.length > 3) this.tail.splice(0, this.tail.length - 3);
    }
    if (parts.length === 1) return this.utf8.decode(parts[0], { stream: true });
    const joined = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      joined.set(p, off);
      off += p.length;
    }
    return this.utf8.decode(joined, { stream: true });
  }

  /**
   * Whether the bytes fed so far end inside a character: its first bytes are held until the rest arrive (a one-shot
   * decode of them would end in one U+FFFD more than the pushes returned). The last lead byte among the last three
   * decides: a lead byte never continues another character, so the one it opens is the only one that can be open.
   */
  get holding(): boolean {
    for (let i = this.tail.length - 1; i >= 0; i--) {
      const b = this.tail[i];
      if (b >= 0x80 && b <= 0xbf) continue; // a continuation byte
      const seq = utf8Sequence(b);
      const after = this.tail.length - 1 - i;
      if (!seq || after + 1 >= seq.length) return false;
      return after === 0 || (this.tail[i + 1] >= seq.lo && this.tail[i + 1] <= seq.hi);
    }
    return false;
  }

  /** End of stream: returns what is left (an incomplete character becomes U+FFFD). */
  flush(): string {
    this.tail.length = 0;
    return this.utf8.decode();
  }
}
