// A fake judge behind @lwz/llm-client's test server: it reads our built-in prompts (the answers between the
// <answer_a>/<answer_b> or <response> tags), rates each answer with `quality(text)` and replies the way a
// real judge would: prose, then a verdict label or a {score, reason} JSON. A seeded share of first asks get
// an unusable reply (no label, a score out of range), so re-asking is exercised; the follow-up ask always
// gets a usable one. Deterministic: the same request always gets the same reply.
import { hashString } from '@lwz/core';
import type { TestRequest, TestReply } from '@lwz/llm-client/testing';

export interface FakeJudgeOptions {
  /** an answer's quality in [0, 1] (default hashQuality) */
  quality?: (text: string) => number;
  /** share of first asks answered unusably (default 0.2) */
  badFirstShare?: number;
  /** pairwise: |qA - qB| below this is A=B (default 0.05); at or above `strong` a strong label (default 0.3) */
  tie?: number;
  strong?: number;
}

/** A stable pseudo-quality in [0, 1) from the text's hash. */
export function hashQuality(text: string): number {
  return hashString(text) / 2 ** 32;
}

function between(text: string, open: string, close: string): string | undefined {
  const m = new RegExp(`${open}\\n([\\s\\S]*?)\\n${close}`).exec(text);
  return m?.[1];
}

export function fakeJudgeResponder(options: FakeJudgeOptions = {}): (req: TestRequest) => TestReply {
  const quality = options.quality ?? hashQuality;
  const badShare = options.badFirstShare ?? 0.2;
  const tie = options.tie ?? 0.05;
  const strong = options.strong ?? 0.3;
  return (req) => {
    const messages = (req.body.messages ?? []) as { role: string; content: string }[];
    const firstUser = messages.find((m) => m.role === 'user')?.content ?? req.prompt;
    const followUp = messages.some((m) => m.role === 'assistant');
    const bad = !followUp && hashString(`bad:${firstUser}`) / 2 ** 32 < badShare;
    const a = between(firstUser, '<answer_a>', '</answer_a>');
    const b = between(firstUser, '<answer_b>', '</answer_b>');
    if (a !== undefined && b !== undefined) {
      if (bad) return 'Both answers have merits; I cannot decide between them.';
      const d = quality(a) - quality(b);
      const label = Math.abs(d) < tie ? 'A=B' : d > 0 ? (d >= strong ? 'A>>B' : 'A>B') : d <= -strong ? 'B>>A' : 'B>A';
      return `Answer A rates ${quality(a).toFixed(2)} and answer B ${quality(b).toFixed(2)}. Labels: [[A>B]] or [[B>A]]. Final: [[${label}]]`;
    }
    const response = between(firstUser, '<response>', '</response>');
    const range = /integer from (\d+) to (\d+)/.exec(firstUser);
    if (response !== undefined && range) {
      const [lo, hi] = [Number(range[1]), Number(range[2])];
      if (bad) return `Decent work. {"score": ${hi + 5}, "reason": "too generous"}`;
      const jitter = (hashString(`c:${between(firstUser, '<criterion>', '</criterion>') ?? ''}`) / 2 ** 32 - 0.5) * 0.1;
      const q = Math.min(1, Math.max(0, quality(response) + jitter));
      const score = lo + Math.round(q * (hi - lo));
      return `Checked the response.\n{"score": ${score}, "reason": "quality ${q.toFixed(2)} on \\"${lo}-${hi}\\""}`;
    }
    return 'I do not understand the request.';
  };
}
