// A disk cache of pairwise verdicts for judges that keep none themselves (reward-model judges): one file per
// judgment at dir/ab/<sha256>.json, keyed by the judge's id and the exact item (prompt, A, B). Each verdict
// is written atomically as it lands, before the caller sees the batch, so a crash loses only judgments
// still running and a rerun judges only what is missing. Chat judges use the client's response cache.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@lwz/core';
import { canonicalJson } from '@lwz/llm-client';
import type { PairwiseItem, PairwiseJudge, PairwiseJudgeOptions, PairwiseVerdict } from './pairwise';
import { VERDICT_LABELS } from './verdict';

export function judgmentKey(judgeId: string, item: PairwiseItem): string {
  return createHash('sha256')
    .update(canonicalJson({ v: 1, judge: judgeId, prompt: item.prompt, a: item.a, b: item.b }))
    .digest('hex');
}

function read(path: string, key: string): PairwiseVerdict | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { key?: string; verdict?: PairwiseVerdict };
    const v = entry.verdict;
    if (entry.key === key && v && (v.label === null || VERDICT_LABELS.includes(v.label)) && typeof v.reason === 'string')
      return { ...v, cached: true };
  } catch {
    // missing or torn: judge again
  }
  return undefined;
}

/** `judge` with every verdict stored under `dir`; the result says it caches its judgments. */
export function withJudgmentCache(judge: PairwiseJudge, dir: string): PairwiseJudge {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);
  return {
    id: judge.id,
    levels: judge.levels,
    cachesJudgments: true,
    async judge(items: readonly PairwiseItem[], options: PairwiseJudgeOptions = {}): Promise<PairwiseVerdict[]> {
      const keys = items.map((it) => judgmentKey(judge.id, it));
      const out: (PairwiseVerdict | undefined)[] = keys.map((k) => read(pathOf(k), k));
      out.forEach((v, i) => v && options.onJudged?.(i, v));
      const missing = out.flatMap((v, i) => (v ? [] : [i]));
      if (missing.length) {
        const save = (j: number, v: PairwiseVerdict) => {
          const i = missing[j];
          if (out[i]) return;
          writeFileAtomic(pathOf(keys[i]), JSON.stringify({ key: keys[i], judge: judge.id, verdict: { ...v, cached: undefined } }) + '\n');
          out[i] = v;
          options.onJudged?.(i, v);
        };
        const verdicts = await judge.judge(
          missing.map((i) => items[i]),
          { signal: options.signal, onJudged: save },
        );
        verdicts.forEach((v, j) => save(j, v));
      }
      return out as PairwiseVerdict[];
    },
  };
}
