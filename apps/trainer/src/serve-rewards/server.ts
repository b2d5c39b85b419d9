// The reward service behind `lwz-train serve-rewards`: POST /v1/rewards with one item {prompt, response,
// length_range?} or {items: [...]} answers, per item, each reward (length, format, quality), the combined
// score (the config's weighted mean of the three; group normalisation is the RL engine's job) and what
// score-rewards adds (target range, answer words, repetition, format verdict). Items of requests that arrive
// within `batchWindowMs` of each other are scored in one scoreRewards call (one quality-scorer batch); an item
// already being scored is not scored again. A failed batch is a 500 whose body says whether a retry can help.
// GET /health: up, and whether the last batch scored. 127.0.0.1 by default; bodies over maxBodyBytes get 413,
// malformed items 400 naming the field.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLlmError } from '@lwz/llm-client';
import { HttpError, listenOn, readBody, urlHost } from '@lwz/rollout';
import {
  checkWordRange,
  createRewardDeps,
  scoreRewards,
  type RewardDeps,
  type RewardRow,
  type RewardsConfig,
  type ScoredRow,
} from '@lwz/rewards';

export interface RewardServerOptions {
  port: number;
  host?: string;
  /** default 1 MiB */
  maxBodyBytes?: number;
  /** most items in one request (default 1024) */
  maxItems?: number;
  /** wait this long for more requests to join a scoring batch (default 5 ms) */
  batchWindowMs?: number;
  /** where a 5xx is reported, so the service's own console shows a failing scorer (default: stderr) */
  log?: (line: string) => void;
}

export interface RewardResult extends ScoredRow {
  score: number;
}

export interface RunningRewardServer {
  url: string;
  stats: { requests: number; items: number; batches: number };
  close(): Promise<void>;
}

/** The combined score of one scored item: the weighted mean of its rewards under the config's weights. */
export function combinedScore(row: ScoredRow, config: RewardsConfig): number {
  const w = config.combination.weights;
  const sum = w.length + w.format + w.quality;
  return (w.length * row.rewards.length + w.format * row.rewards.format + w.quality * row.rewards.quality) / sum;
}

const ITEM_FIELDS = ['prompt', 'response', 'length_range', 'length'];

/** Levenshtein distance, case-insensitive (lengthRange is one edit from length_range's spelling). */
function editDistance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length];
}

function checkItem(value: unknown, where: string): RewardRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    const batch = where === 'body' ? '; several items go in {"items": [...]}' : '';
    throw new HttpError(400, `${where}: expected an object with "prompt" and "response", got ${got}${batch}`);
  }
  const item = value as Record<string, unknown>;
  // other fields (a sample line's id, answer, finish_reason...) pass unread; one spelt like ours is a typo that would
  // silently drop its value (a "lenght_range" left the target to the predictor)
  const typo = Object.keys(item).find((k) => !ITEM_FIELDS.includes(k) && ITEM_FIELDS.some((f) => editDistance(k, f) <= 2));
  if (typo !== undefined)
    throw new HttpError(400, `${where}.${typo}: no such field; an item has ${ITEM_FIELDS.join(', ')} (did you mean one of them?)`);
  for (const f of ['prompt', 'response'])
    if (typeof item[f] !== 'string')
      throw new HttpError(400, `${where}.${f}: must be a string, got ${item[f] === undefined ? 'nothing' : typeof item[f]}`);
  if (item.length_range !== undefined && item.length_range !== null) {
    try {
      checkWordRange(item.length_range, `${where}.length_range`);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
  }
  const n = item.length;
  if (n !== undefined && n !== null && !(typeof n === 'number' && Number.isFinite(n) && n > 0))
    throw new HttpError(400, `${where}.length: must be a positive number of words (the required length), got ${JSON.stringify(n)}`);
  return {
    prompt: item.prompt as string,
    response: item.response as string,
    ...(item.length_range ? { length_range: item.length_range } : {}),
    ...(typeof n === 'number' ? { length: n } : {}),
  };
}

/**
 * A failed scoring batch as each of its requests sees it (already logged once for the batch). Not retryable when the
 * client of a judge (the chat-judge quality scorer, or the llm length predictor) found a failure every try meets alike
 * (a 401 for the key, a 404 for the model), so the message says to mend the service's config instead of letting
 * clients retry for minutes.
 */
class ScoringError extends Error {
  readonly retryable: boolean;
  constructor(cause: Error) {
    let inner: unknown = cause;
    while (inner instanceof Error && !isLlmError(inner)) inner = inner.cause;
    const retryable = !(isLlmError(inner) && inner.retryable === false);
    const fix = retryable
      ? ''
      : "; retrying will not help: mend the quality scorer's (or the llm length predictor's) options in the rewards config (key, model, URL) and restart serve-rewards";
    super(`${cause.message}${fix}`, { cause });
    this.retryable = retryable;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startRewardServer(
  config: RewardsConfig,
  o: RewardServerOptions,
  deps: RewardDeps = createRewardDeps(config),
): Promise<RunningRewardServer> {
  const maxBody = o.maxBodyBytes ?? 2 ** 20;
  const maxItems = o.maxItems ?? 1024;
  const windowMs = o.batchWindowMs ?? 5;
  const log = o.log ?? ((line: string) => console.error(line));
  const stats = { requests: 0, items: 0, batches: 0 };
  // the last scoring batch's failure, for /health (cleared by the next batch that scores)
  let failing: { message: string; since: string; retryable: boolean } | null = null;
  let pending: { item: RewardRow; done: (r: RewardResult) => void; fail: (e: Error) => void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  // items being scored, by their content: a client that timed out and asks again (lwz_reward.py waits 300 s a try, a
  // judge up to its timeoutMs) joins the scoring under way instead of paying the judge a second time
  const inFlight = new Map<string, Promise<RewardResult>>();

  const flush = async (): Promise<void> => {
    timer = null;
    const batch = pending;
    pending = [];
    stats.batches++;
    try {
      const scored = await scoreRewards(
        batch.map((p) => p.item),
        config,
        deps,
      );
      failing = null;
      batch.forEach((p, i) => p.done({ ...scored.rows[i], score: combinedScore(scored.rows[i], config) }));
    } catch (e) {
      const error = new ScoringError(e as Error);
      failing = { message: error.message, since: failing?.since ?? new Date().toISOString(), retryable: error.retryable };
      // once per batch, not once per request: a judge that is down fails every request of the batch alike
      const again = error.retryable ? '' : ' (not retryable)';
      log(`serve-rewards: scoring ${batch.length} item(s) failed, answered 500${again}: ${error.message}`);
      for (const p of batch) p.fail(error);
    }
  };
  const scoreOne = (item: RewardRow): Promise<RewardResult> => {
    const key = JSON.stringify([item.prompt, item.response, item.length_range ?? null, item.length ?? null]);
    let result = inFlight.get(key);
    if (result === undefined) {
      result = new Promise<RewardResult>((done, fail) => {
        pending.push({ item, done, fail });
        timer ??= setTimeout(() => void flush(), windowMs);
      });
      inFlight.set(key, result);
      const forget = () => inFlight.delete(key);
      result.then(forget, forget);
    }
    return result;
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]; // a probe's ?query does not change the route
    void (async () => {
      try {
        if (req.method === 'GET' && path === '/health') {
          // 200 either way (the service is up; restarting it does not mend a judge), the body says whether it scores
          const health = failing
            ? { status: 'failing', last_error: failing.message, failing_since: failing.since, retryable: failing.retryable }
            : { status: 'ok' };
          return send(res, 200, { ...health, ...stats });
        }
        if (path !== '/v1/rewards') throw new HttpError(404, `no route ${req.method} ${path}; POST /v1/rewards or GET /health`);
        if (req.method !== 'POST') throw new HttpError(405, 'POST /v1/rewards');
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req, maxBody));
        } catch (e) {
          if (e instanceof HttpError && e.status === 413)
            throw new HttpError(413, `${e.message}: send fewer items per request, or start serve-rewards with a larger --max-body-mb`);
          if (e instanceof HttpError) throw e;
          throw new HttpError(400, `body is not JSON: ${(e as Error).message}`);
        }
        const many = body !== null && typeof body === 'object' && 'items' in body;
        const raw = many ? (body as { items: unknown }).items : [body];
        if (!Array.isArray(raw) || raw.length === 0) throw new HttpError(400, 'items: must be a non-empty array');
        if (raw.length > maxItems) throw new HttpError(413, `items: ${raw.length} items, at most ${maxItems} per request`);
        const items = raw.map((v, i) => checkItem(v, many ? `items[${i}]` : 'body'));
        stats.requests++;
        stats.items += items.length;
        const results = await Promise.all(items.map(scoreOne));
        send(res, 200, many ? { results } : results[0]);
      } catch (e) {
        const status = e instanceof HttpError ? e.status : 500;
        // the client sees every error; a 5xx (a scorer or judge failing) is the operator's to fix, so it is shown here too
        if (status >= 500 && !(e instanceof ScoringError))
          log(`serve-rewards: ${req.method} ${path} -> ${status}: ${(e as Error).message}`);
        // retryable: false says a retry would fail alike (a judge refusing the key or the model), so a client stops at once
        const retryable = e instanceof ScoringError ? e.retryable : status >= 500 || status === 429;
        if (!res.headersSent) send(res, status, { error: { message: (e as Error).message, status, retryable } });
      }
    })();
  });
  await listenOn(server, o.port, o.host ?? '127.0.0.1');
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(addr.address)}:${addr.port}`,
    stats,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
