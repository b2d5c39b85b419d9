// A request body read whole with a size cap, shared by `serve` and `serve-rewards`.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './openai-requests';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Offset of the first byte that starts no well-formed UTF-8 sequence by its lead and continuation bits; -1 if none (an overlong or surrogate form). */
function firstBadByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (more < 0) return i;
    for (let k = 1; k <= more; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += more + 1;
  }
  return -1;
}

/**
 * The body as text, or 413 when it passes `max` bytes. An oversized body is still read to its end (and
 * dropped, never kept) up to 64 MiB so the client sees the 413 instead of a reset connection. A body that is not
 * UTF-8 (JSON's encoding) is a 400: decoded loosely, its bad bytes became U+FFFD and the text changed unseen.
 */
export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size <= max) parts.push(part as Buffer);
    else if (size > 64 * 2 ** 20) break;
  }
  if (size > max || declared > max)
    throw new HttpError(413, `request body of ${Math.max(size, declared || 0)} bytes exceeds the ${max}-byte limit`);
  const bytes = Buffer.concat(parts);
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstBadByte(bytes);
    throw new HttpError(
      400,
      `request body is not UTF-8 text${at < 0 ? '' : ` (bad byte 0x${bytes[at].toString(16)} at offset ${at})`}: send JSON encoded as UTF-8`,
    );
  }
}
