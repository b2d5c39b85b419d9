// Several base URLs used round-robin, with a little memory per URL: after a retryable failure a URL cools
// down (its own exponential backoff over consecutive failures, or the Retry-After it sent, whichever is
// longer), and picks skip cooling URLs while another is ready. So one dead server costs each request at
// most one quick failure, and a 429 with Retry-After holds back every request of the client, not just one.
// Not a health checker: a cooled-down URL is simply tried again.
import { backoffDelayMs } from './backoff';

interface UrlHealth {
  failures: number; // consecutive retryable failures, those of requests in flight together counted once
  readyAt: number; // ms timestamp before which the URL is avoided
}

export interface UrlPick {
  index: number;
  url: string;
  /** how long to wait before using it (0 when it is ready) */
  waitMs: number;
}

export interface UrlPoolTiming {
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  random: () => number;
}

export class UrlPool {
  private cursor = 0;
  private readonly health: UrlHealth[];

  constructor(
    readonly urls: readonly string[],
    private readonly timing: UrlPoolTiming,
  ) {
    if (urls.length === 0) throw new Error('UrlPool needs at least one URL');
    this.health = urls.map(() => ({ failures: 0, readyAt: 0 }));
  }

  /** The next ready URL in round-robin order, avoiding `avoid` (the one that just failed) while another is ready. */
  pick(now: number, avoid?: number): UrlPick {
    const n = this.urls.length;
    let fallback = -1;
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n;
      if (this.health[index].readyAt > now) continue;
      if (index === avoid && n > 1) {
        if (fallback < 0) fallback = index;
        continue;
      }
      this.cursor = index + 1;
      return { index, url: this.urls[index], waitMs: 0 };
    }
    if (fallback >= 0) return { index: fallback, url: this.urls[fallback], waitMs: 0 };
    let soonest = 0;
    for (let i = 1; i < n; i++) if (this.health[i].readyAt < this.health[soonest].readyAt) soonest = i;
    this.cursor = soonest + 1;
    return { index: soonest, url: this.urls[soonest], waitMs: this.health[soonest].readyAt - now };
  }

  success(index: number): void {
    this.health[index].failures = 0;
  }

  /**
   * Record a retryable failure; returns the cool-down it set in ms. A failure while the URL is already cooling
   * (a request sent before the first failure, failing with it) does not lengthen the cool-down: the requests in
   * flight together count as one failure. Else a down server seen by 64 concurrent requests would reach the
   * longest step (30 s) at once, and every retry would wait it out (a judge batch against a closed port took
   * minutes to report it).
   */
  failure(index: number, now: number, retryAfterMs?: number): number {
    const h = this.health[index];
    if (now >= h.readyAt) h.failures += 1;
    const { backoffBaseMs, backoffMaxMs, maxRetryAfterMs, random } = this.timing;
    let delay = backoffDelayMs(h.failures, backoffBaseMs, backoffMaxMs, random);
    if (retryAfterMs !== undefined) delay = Math.max(delay, Math.min(retryAfterMs, maxRetryAfterMs));
    h.readyAt = Math.max(h.readyAt, now + delay);
    return delay;
  }
}
