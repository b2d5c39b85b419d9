// Server-sent events, the part OpenAI-style streams use: `data:` lines (several join with "\n") ended by a
// blank line make one event; comments (`:`) and other fields (event:, id:, retry:) are skipped. Reads a
// web ReadableStream of bytes, so chunks may split lines or UTF-8 characters anywhere. Not an EventSource:
// no reconnection, no event types.

/** The `data` payload of each event, in order. `onBytes` is called for every chunk received (idle timers). */
export async function* sseData(body: ReadableStream<Uint8Array>, onBytes?: () => void): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      onBytes?.();
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const nl = nextLineBreak(buffer, start);
        if (nl < 0) break;
        const line = buffer.slice(start, nl);
        start = nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1);
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5));
        }
      }
      buffer = buffer.slice(start);
    }
    buffer += decoder.decode();
    if (buffer.startsWith('data:')) data.push(buffer.slice(buffer[5] === ' ' ? 6 : 5));
    if (data.length) yield data.join('\n');
  } finally {
    // a consumer that stops early (or a read error) cancels the body, which frees the connection
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Index of the next \n or \r at or after `from`, or -1. A \r at the very end may be half of \r\n: wait for more. */
function nextLineBreak(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') return i;
    if (c === '\r') return i + 1 < text.length ? i : -1;
  }
  return -1;
}
