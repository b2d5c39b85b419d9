// Streaming decode for generated text: ids arrive one or a few at a time and each push returns the text that
// is complete so far. Bytes of a UTF-8 character split across tokens are held until the character is whole;
// invalid bytes become U+FFFD exactly as a one-shot decode would. Not a detokenizer of its own (tokenizer.ts).

export class StreamDecoder {
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

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

  /** End of stream: returns what is left (an incomplete character becomes U+FFFD). */
  flush(): string {
    return this.utf8.decode();
  }
}
