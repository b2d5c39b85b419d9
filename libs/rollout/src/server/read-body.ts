// A request body read whole with a size cap, shared by `serve` and `serve-rewards`.
import type { IncomingMessage } from 'node:http';
import { firstInvalidUtf8 } from '@lwz/core';
import { HttpError } from './openai-requests';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

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
    const at = firstInvalidUtf8(bytes);
    throw new HttpError(
      400,
      `request body is not UTF-8 text${at < 0 ? '' : ` (bad byte 0x${bytes[at].toString(16)} at offset ${at})`}: send JSON encoded as UTF-8`,
    );
  }
}
