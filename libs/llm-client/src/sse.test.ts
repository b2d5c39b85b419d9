import { Rng } from '@lwz/core';
import { sseData } from './sse';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
}

async function collect(chunks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const d of sseData(streamOf(chunks))) out.push(d);
  return out;
}

const text = ': comment\r\ndata: {"a":"é"}\r\n\r\nevent: x\nid: 3\ndata: line 1\ndata:line 2\n\ndata: [DONE]\n\n';
const expected = ['{"a":"é"}', 'line 1\nline 2', '[DONE]'];

describe('sse', () => {
  it('reads data events, joins multi-line data, skips comments and other fields', async () => {
    expect(await collect([new TextEncoder().encode(text)])).toEqual(expected);
  });

  it('gives the same events however the bytes are split (inside lines, CRLF pairs and UTF-8 characters)', async () => {
    const bytes = new TextEncoder().encode(text);
    const rng = new Rng(5);
    for (let trial = 0; trial < 50; trial++) {
      const cuts = [0, ...Array.from({ length: 1 + rng.int(8) }, () => rng.int(bytes.length)).sort((a, b) => a - b), bytes.length];
      const chunks = cuts.slice(1).map((end, i) => bytes.slice(cuts[i], end));
      expect(await collect(chunks)).toEqual(expected);
    }
    expect(await collect([...bytes].map((b) => new Uint8Array([b])))).toEqual(expected);
  });

  it('yields a last event that lacks its blank line', async () => {
    expect(await collect([new TextEncoder().encode('data: one\n\ndata: two')])).toEqual(['one', 'two']);
  });
});
