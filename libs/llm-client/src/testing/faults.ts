// Fault injection for the test server: the kinds of failure a real fleet produces (5xx, 429 with
// Retry-After, hangs, connections dropped mid-body, malformed or wrong-shaped bodies) and how each is
// written to the wire. Which request gets which fault is decided by the server (seeded share or a plan).
import type { ServerResponse } from 'node:http';
import { apiError, sendJson, type TestRequest } from './openai-shapes';

export type FaultKind = 'http500' | 'http503' | 'http429' | 'hang' | 'drop' | 'malformed' | 'wrong-shape';
export const ALL_FAULTS: readonly FaultKind[] = ['http500', 'http503', 'http429', 'hang', 'drop', 'malformed', 'wrong-shape'];

export interface FaultOptions {
  /** share of requests that get a fault, in [0, 1] */
  rate: number;
  /** which faults, drawn uniformly (default ALL_FAULTS) */
  kinds?: readonly FaultKind[];
  /** seed of the draws, taken in arrival order (default 1) */
  seed?: number;
}

/** Headers sent with 429: `retry-after-ms` and/or `Retry-After` (seconds, or any text such as an HTTP date). */
export interface RetryAfter {
  ms?: number;
  seconds?: number | string;
}

/** Write fault `kind` as the answer to `req`; `goodBody` is the answer it replaces (drops and truncations cut it). */
export function injectFault(
  kind: FaultKind,
  req: TestRequest,
  res: ServerResponse,
  goodBody: string,
  retryAfter: RetryAfter | undefined,
): void {
  switch (kind) {
    case 'http500':
    case 'http503':
      return apiError(res, kind === 'http500' ? 500 : 503, 'injected server error');
    case 'http429': {
      const ra = retryAfter ?? { ms: 20 };
      const headers: Record<string, string> = {};
      if (ra.ms !== undefined) headers['retry-after-ms'] = String(ra.ms);
      if (ra.seconds !== undefined) headers['retry-after'] = String(ra.seconds);
      return apiError(res, 429, 'injected rate limit', headers);
    }
    case 'hang':
      return; // never answered: the client's timeout fires, or close() drops the socket
    case 'drop':
      // headers and part of the body, then the socket is destroyed
      res.writeHead(
        200,
        req.stream
          ? { 'content-type': 'text/event-stream' }
          : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(goodBody) },
      );
      res.write(req.stream ? 'data: {"choices": [{"ind' : goodBody.slice(0, Math.floor(goodBody.length / 2)));
      setTimeout(() => res.socket?.destroy(), 5);
      return;
    case 'malformed':
      if (req.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end('data: {"choices": [{"text": "trunc\n\ndata: [DONE]\n\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(goodBody.slice(0, Math.floor(goodBody.length / 2)));
    case 'wrong-shape':
      return sendJson(res, 200, { object: 'error', message: 'injected: not a completion' });
    default:
      return kind satisfies never;
  }
}
