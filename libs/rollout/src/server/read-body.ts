// A request body read whole with a size cap, shared by `serve` and `serve-rewards`.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './openai-requests';

/**
 * The body as text, or 413 when it passes `max` bytes. An oversized body is still read to its end (and
 * dropped, never kept) up to 64 MiB so the client sees the 413 instead of a reset connection.
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
  return Buffer.concat(parts).toString('utf8');
}
