// A load test for `serve` (or any OpenAI-compatible server with the same limits): `clients` concurrent clients
// send `requests` requests in a seeded mix of good ones (completions and chat, JSON and SSE, n of 1-2) and bad
// ones (bodies over the size cap, malformed JSON, wrong field types, over-cap max_tokens, unknown models), and
// every reply is checked: a good request must end in a complete 200 answer (a 429 is honoured by waiting
// Retry-After and sending it again), a bad one in the 4xx it deserves. Memory is the caller's to sample
// (`sample` runs every `sampleEvery` requests). Used by benchmarks/rollout/serve-load.ts and, small, by a test.
import { Rng } from '@lwz/core';

export type LoadKind =
  | 'completion'
  | 'stream'
  | 'chat'
  | 'chat-stream'
  | 'oversized'
  | 'malformed'
  | 'bad-field'
  | 'too-many-tokens'
  | 'unknown-model';

const GOOD: LoadKind[] = ['completion', 'stream', 'chat', 'chat-stream'];
/** share of each kind in the mix (sums to 1) */
const MIX: [LoadKind, number][] = [
  ['completion', 0.35],
  ['stream', 0.15],
  ['chat', 0.12],
  ['chat-stream', 0.08],
  ['oversized', 0.08],
  ['malformed', 0.08],
  ['bad-field', 0.06],
  ['too-many-tokens', 0.04],
  ['unknown-model', 0.04],
];
const EXPECTED: Partial<Record<LoadKind, number>> = {
  oversized: 413,
  malformed: 400,
  'bad-field': 400,
  'too-many-tokens': 400,
  'unknown-model': 404,
};

export interface LoadTestOptions {
  /** base URL with /v1 */
  url: string;
  model: string;
  clients: number;
  requests: number;
  /** the server's body cap: oversized bodies are twice this */
  maxBodyBytes: number;
  /** the server's max_tokens cap: too-many-tokens asks for one more */
  maxTokens: number;
  seed?: number;
  /** called every `sampleEvery` finished requests with the count so far */
  sample?: (done: number) => void;
  sampleEvery?: number;
}

export interface LoadTestResult {
  requests: number;
  good: number;
  bad: number;
  /** good requests that ended in a complete 200 answer */
  goodAnswered: number;
  /** bad requests that got the expected 4xx with an OpenAI-style error body */
  badRejected: number;
  /** 429 replies (each retried) */
  retried429: number;
  status: Record<number, number>;
  byKind: Partial<Record<LoadKind, number>>;
  /** at most 20 descriptions of replies that were not what they should be */
  failures: string[];
  latencyMs: { p50: number; p95: number; max: number };
  seconds: number;
}

function pick(rng: Rng): LoadKind {
  let u = rng.next();
  for (const [kind, share] of MIX) if ((u -= share) < 0) return kind;
  return 'completion';
}

function body(kind: LoadKind, rng: Rng, o: LoadTestOptions): string {
  const prompt = `Request ${rng.int(100000)}: write about ${['rivers', 'cities', 'stars', 'bread'][rng.int(4)]}.`;
  const sampling = { model: o.model, max_tokens: 4 + rng.int(12), temperature: rng.next(), seed: rng.int(1000), n: 1 + rng.int(2) };
  const messages = [{ role: 'user', content: prompt }];
  switch (kind) {
    case 'completion':
    case 'stream':
      return JSON.stringify({ ...sampling, prompt, stream: kind === 'stream', logprobs: rng.int(2) });
    case 'chat':
    case 'chat-stream':
      return JSON.stringify({ ...sampling, messages, stream: kind === 'chat-stream' });
    case 'oversized':
      return JSON.stringify({ ...sampling, prompt: 'x'.repeat(2 * o.maxBodyBytes) });
    case 'malformed':
      return JSON.stringify({ ...sampling, prompt }).slice(0, 20 + rng.int(20));
    case 'bad-field':
      return JSON.stringify({ ...sampling, prompt, temperature: 'warm' });
    case 'too-many-tokens':
      return JSON.stringify({ ...sampling, prompt, max_tokens: o.maxTokens + 1 });
    case 'unknown-model':
      return JSON.stringify({ ...sampling, prompt, model: `${o.model}-missing` });
  }
}

/** Whether a 200 reply is a complete answer: JSON with choices, or an SSE stream ending in [DONE]. */
function complete(kind: LoadKind, text: string): boolean {
  if (kind === 'stream' || kind === 'chat-stream') return text.trimEnd().endsWith('data: [DONE]') && text.includes('"finish_reason":"');
  try {
    const json = JSON.parse(text) as { choices?: unknown[] };
    return Array.isArray(json.choices) && json.choices.length > 0;
  } catch {
    return false;
  }
}

export async function runLoadTest(o: LoadTestOptions): Promise<LoadTestResult> {
  const rng = new Rng(o.seed ?? 1);
  const plan = Array.from({ length: o.requests }, () => {
    const kind = pick(rng);
    return { kind, body: body(kind, rng, o), chat: kind.startsWith('chat') };
  });
  const r: LoadTestResult = {
    requests: o.requests,
    good: 0,
    bad: 0,
    goodAnswered: 0,
    badRejected: 0,
    retried429: 0,
    status: {},
    byKind: {},
    failures: [],
    latencyMs: { p50: 0, p95: 0, max: 0 },
    seconds: 0,
  };
  const latencies: number[] = [];
  const fail = (msg: string): void => void (r.failures.length < 20 && r.failures.push(msg));
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (next < plan.length) {
      const i = next++;
      const { kind, body: text, chat } = plan[i];
      r.byKind[kind] = (r.byKind[kind] ?? 0) + 1;
      const good = GOOD.includes(kind);
      if (good) r.good++;
      else r.bad++;
      const started = performance.now();
      for (;;) {
        let status = 0;
        let reply = '';
        try {
          const res = await fetch(`${o.url}/${chat ? 'chat/completions' : 'completions'}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: text,
          });
          status = res.status;
          reply = await res.text();
          if (status === 429) {
            r.retried429++;
            await new Promise((w) => setTimeout(w, 1000 * Number(res.headers.get('retry-after') ?? 1)));
            continue;
          }
        } catch (e) {
          fail(`request ${i} (${kind}): ${(e as Error).message}`);
        }
        r.status[status] = (r.status[status] ?? 0) + 1;
        if (good && status === 200 && complete(kind, reply)) r.goodAnswered++;
        else if (!good && status === EXPECTED[kind] && reply.includes('"error"')) r.badRejected++;
        else fail(`request ${i} (${kind}): HTTP ${status} ${reply.slice(0, 120)}`);
        break;
      }
      latencies.push(performance.now() - started);
      done++;
      if (o.sample && done % (o.sampleEvery ?? 100) === 0) o.sample(done);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  r.seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  r.latencyMs = { p50: at(0.5), p95: at(0.95), max: latencies[latencies.length - 1] ?? 0 };
  return r;
}
