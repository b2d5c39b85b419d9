// The start checkpoint's own signal on the reward model's held-out pairs (issue #11), with no RM training:
// per corruption type, how often the LM ranks the real passage above the corrupted one by its mean
// log-likelihood per answer token, by its total log-likelihood, and by the log-probability of the end id after
// the answer; and how much better it predicts the second copy of a "repeat" text than the first (in-context
// copying, the induction-head signal a "repeat" detector needs). The pairs are train-rm's held-out pairs (same
// seed, count, types, lengths and encoding); the "policy" type is left out (its rejected side is sampled from
// the checkpoint itself). A measurement tool (`npx tsx apps/trainer/src/rm/lm-signal.ts CKPT...`), not part of
// any run.
import { join } from 'node:path';
import { readJsonl } from '@lwz/core';
import { documentSentences, readCorpusSplit } from '@lwz/data';
import { rmEndId, rmInputIds } from '@lwz/judges';
import { defaultDevice } from '@lwz/kernels';
import { loadModel, type Qwen2Model } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { resolveCheckpoint } from '../checkpoints';
import { resolveRmConfig } from './config';
import { CORRUPTIONS, heldoutPairs, type Corruption } from './pairs';

export interface LmSignal {
  /** share of pairs (ties half) where the real passage wins, by criterion, per type */
  byType: Partial<Record<Corruption, { pairs: number; meanLogprob: number; sumLogprob: number; endLogprob: number }>>;
  /** copyGain over the "repeat" pairs' rejected sides whose second copy tokenizes as the first (pairs counted) */
  copy: { pairs: number; meanGain: number; medianGain: number };
}

// about the middle of the answer lengths train-rm asks for (40-213 words)
const STAND_IN = Array.from({ length: 12 }, () => 'This stand-in answer has about ten words in it.').join(' ');

const win = (m: number) => (m > 0 ? 1 : m === 0 ? 0.5 : 0);

/** Per-sequence (mean log-prob of the answer tokens after the first, sum of them, log-prob of the final end id). */
export function sequenceStats(model: Qwen2Model, ids: readonly number[]): { mean: number; sum: number; end: number } {
  const lp = model.sequenceLogprobs(ids); // lp[t] = log p(ids[t+1] | ids[<=t]); the last one scores the end id
  const answer = lp.slice(0, -1);
  const sum = answer.reduce((a, b) => a + b, 0);
  return { mean: sum / Math.max(1, answer.length), sum, end: lp[lp.length - 1] };
}

/**
 * In-context copying (issue #11's "repeat" type): `ids` = a text of `n` tokens, then the same text again, then the
 * end id. Returns the mean log-prob of the second copy's last n - 1 tokens minus that of the same tokens in
 * the first copy (its first token is left out of both: it may merge with the separator). Nats per token; an LM
 * with induction heads predicts the second copy far better (gains of several nats), one without barely does.
 */
export function copyGain(model: Qwen2Model, ids: readonly number[], n: number): number {
  const lp = model.sequenceLogprobs(ids); // lp[t] = log p(ids[t+1] | ids[<=t])
  const k = n - 1;
  const first = lp.slice(0, k); // predicts ids[1..n-1]
  const second = lp.slice(ids.length - 2 - k, ids.length - 2); // predicts the k tokens before the end id
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return mean(second) - mean(first);
}

/**
 * `policyAnswers`: the RM run's held-out policy answers (the second half of its policy-samples.jsonl) make the
 * pair set identical to that run's; without them a fixed stand-in answer keeps the set fixed across checkpoints.
 */
export function lmSignal(checkpoint: string, perType?: number, policyAnswers: readonly string[] = [STAND_IN]): LmSignal {
  const cfg = resolveRmConfig(perType ? { overrides: { heldoutPerType: perType } } : {});
  const dir = resolveCheckpoint(checkpoint);
  const tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
  const model = loadModel(dir, defaultDevice(), cfg.runtime);
  const endId = rmEndId(tokenizer, model.config.eosTokenId);
  const val = documentSentences(readCorpusSplit(cfg.corpus, 'val'));
  // all types, so pair i is the same pair train-rm holds out; the policy pairs (a stand-in answer) are skipped
  const pairs = heldoutPairs(
    val,
    cfg.seed + 1,
    cfg.heldoutPerType,
    CORRUPTIONS,
    { words: cfg.words, dropShare: cfg.dropShare },
    policyAnswers,
  ).filter((p) => p.type !== 'policy');
  const out: LmSignal = { byType: {}, copy: { pairs: 0, meanGain: 0, medianGain: 0 } };
  const gains: number[] = [];
  for (const p of pairs) {
    if (p.type === 'repeat') {
      const half = tokenizer.encode(p.rejected.split('\n\n')[0], { addSpecialTokens: false });
      const ids = rmInputIds(tokenizer, p.rejected, endId, cfg.maxTokens);
      const tail = ids.slice(ids.length - half.length, -1);
      if (tail.every((t, i) => t === half[i + 1])) gains.push(copyGain(model, ids, half.length));
    }
    const c = sequenceStats(model, rmInputIds(tokenizer, p.chosen, endId, cfg.maxTokens));
    const r = sequenceStats(model, rmInputIds(tokenizer, p.rejected, endId, cfg.maxTokens));
    const t = (out.byType[p.type] ??= { pairs: 0, meanLogprob: 0, sumLogprob: 0, endLogprob: 0 });
    t.pairs += 1;
    t.meanLogprob += win(c.mean - r.mean);
    t.sumLogprob += win(c.sum - r.sum);
    t.endLogprob += win(c.end - r.end);
  }
  for (const t of Object.values(out.byType)) {
    t.meanLogprob /= t.pairs;
    t.sumLogprob /= t.pairs;
    t.endLogprob /= t.pairs;
  }
  gains.sort((a, b) => a - b);
  out.copy = {
    pairs: gains.length,
    meanGain: gains.reduce((a, b) => a + b, 0) / Math.max(1, gains.length),
    medianGain: gains[Math.floor(gains.length / 2)] ?? NaN,
  };
  model.dispose();
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // usage: lm-signal.ts [--per-type N] [--policy runs/rm-x/policy-samples.jsonl] CKPT...
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const perType = opt('--per-type');
  const policyFile = opt('--policy');
  const policy = policyFile ? readJsonl<{ answer: string }>(policyFile).map((r) => r.value.answer) : undefined;
  for (const ckpt of args) {
    const t0 = performance.now();
    const s = lmSignal(ckpt, perType ? Number(perType) : undefined, policy?.slice(Math.floor(policy.length / 2)));
    const fmt = (k: 'meanLogprob' | 'sumLogprob' | 'endLogprob') =>
      Object.entries(s.byType)
        .map(([t, v]) => `${t} ${(100 * v[k]).toFixed(0)}`)
        .join(', ');
    console.log(`${ckpt} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    console.log(`  mean log-prob/token: ${fmt('meanLogprob')}`);
    console.log(`  total log-prob:      ${fmt('sumLogprob')}`);
    console.log(`  end-id log-prob:     ${fmt('endLogprob')}`);
    console.log(
      `  copy gain (repeat's second copy over its first, nats/token): mean ${s.copy.meanGain.toFixed(3)}, ` +
        `median ${s.copy.medianGain.toFixed(3)} over ${s.copy.pairs} pairs`,
    );
    console.log(
      `  pairs: ${Object.entries(s.byType)
        .map(([t, v]) => `${t} ${v.pairs}`)
        .join(', ')}`,
    );
  }
}
