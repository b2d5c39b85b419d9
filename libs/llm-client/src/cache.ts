// The response cache on disk: one JSON file per request, named by the sha256 of (client id, endpoint,
// attempt, the exact request body) in canonical key order, under two-letter fan-out folders. An entry is
// written atomically (core's writeFileAtomic) BEFORE the value goes back to the caller, so a crash right
// after a call loses nothing and a rerun makes no call. Identical requests in flight in one process share
// one call. Across processes two writers may both call; the last rename wins and both entries are valid.
// It stores the server's raw JSON (never headers, so never the key); streams are not cached.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@lwz/core';

export interface CacheKeyParts {
  /** the client's id (config `id`): separates judges that share a directory */
  id: string;
  /** e.g. '/chat/completions' */
  endpoint: string;
  /** the exact request body sent (it holds the model name) */
  body: unknown;
  /** re-ask number for validated answers (0 for a first ask) */
  attempt?: number;
}

export interface CacheStats {
  /** answers read from disk */
  hits: number;
  /** answers not on disk (each made one call) */
  misses: number;
  /** requests that joined an identical request already in flight */
  joined: number;
  /** entries written */
  writes: number;
  /** unreadable entries found (treated as misses and rewritten) */
  corrupt: number;
}

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function cacheKey(parts: CacheKeyParts): string {
  const material = canonicalJson({ v: 1, id: parts.id, endpoint: parts.endpoint, attempt: parts.attempt ?? 0, body: parts.body });
  return createHash('sha256').update(material).digest('hex');
}

interface Entry {
  key: string;
  id: string;
  endpoint: string;
  attempt: number;
  created: string;
  response: unknown;
}

/** Identical requests in flight: one call, aborted only when every caller waiting on it has left. */
interface InFlight {
  promise: Promise<unknown>;
  controller: AbortController;
  waiting: number;
}

export class ResponseCache {
  private readonly inflight = new Map<string, InFlight>();
  private readonly counts: CacheStats = { hits: 0, misses: 0, joined: 0, writes: 0, corrupt: 0 };

  constructor(readonly dir: string) {}

  pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  stats(): CacheStats {
    return { ...this.counts };
  }

  /**
   * The cached response for `parts`, else `call(signal)`'s, stored before it is returned. `isValid` rejects
   * entries that no longer parse (they count as corrupt and are fetched again). `cached` says which. Identical
   * requests in flight share one call; each caller leaves it when its own `signal` aborts (rejected with
   * `aborted()`), and the call itself is aborted only when no caller waits on it any more.
   */
  async getOrCall(
    parts: CacheKeyParts,
    call: (signal: AbortSignal) => Promise<unknown>,
    isValid: (raw: unknown) => boolean,
    signal?: AbortSignal,
    aborted: () => Error = () => new Error('aborted by the caller'),
  ): Promise<{ raw: unknown; cached: boolean }> {
    const key = cacheKey(parts);
    if (signal?.aborted) throw aborted();
    const pending = this.inflight.get(key);
    if (pending) {
      this.counts.joined += 1;
      return { raw: await this.wait(key, pending, signal, aborted), cached: false };
    }
    const stored = await this.read(key, isValid);
    if (stored !== undefined) {
      this.counts.hits += 1;
      return { raw: stored, cached: true };
    }
    // re-check after the read's await: an identical request may have started meanwhile
    const raced = this.inflight.get(key);
    if (raced) {
      this.counts.joined += 1;
      return { raw: await this.wait(key, raced, signal, aborted), cached: false };
    }
    this.counts.misses += 1;
    const controller = new AbortController();
    const promise = (async () => {
      const raw = await call(controller.signal);
      const entry: Entry = {
        key,
        id: parts.id,
        endpoint: parts.endpoint,
        attempt: parts.attempt ?? 0,
        created: new Date().toISOString(),
        response: raw,
      };
      writeFileAtomic(this.pathOf(key), JSON.stringify(entry) + '\n');
      this.counts.writes += 1;
      return raw;
    })();
    const shared: InFlight = { promise, controller, waiting: 0 };
    this.inflight.set(key, shared);
    const settle = () => {
      if (this.inflight.get(key) === shared) this.inflight.delete(key);
    };
    promise.then(settle, settle);
    return { raw: await this.wait(key, shared, signal, aborted), cached: false };
  }

  /** One caller's wait on a shared call: it leaves on its own abort; the last to leave aborts the call. */
  private async wait(key: string, entry: InFlight, signal: AbortSignal | undefined, aborted: () => Error): Promise<unknown> {
    entry.waiting += 1;
    let onAbort: (() => void) | undefined;
    const left =
      signal &&
      new Promise<never>((_, reject) => {
        onAbort = () => reject(aborted());
        signal.addEventListener('abort', onAbort, { once: true });
      });
    try {
      return await (left ? Promise.race([entry.promise, left]) : entry.promise);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      entry.waiting -= 1;
      if (signal?.aborted && entry.waiting === 0 && this.inflight.get(key) === entry) {
        this.inflight.delete(key); // a request arriving now makes a new call instead of joining the aborted one
        entry.controller.abort();
      }
    }
  }

  private async read(key: string, isValid: (raw: unknown) => boolean): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.pathOf(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as Entry;
      if (entry.key === key && isValid(entry.response)) return entry.response;
    } catch {
      // fall through: unreadable
    }
    this.counts.corrupt += 1;
    return undefined;
  }
}
