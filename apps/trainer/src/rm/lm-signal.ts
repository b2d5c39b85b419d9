// The start checkpoint's own signal on the reward model's held-out pairs (issue #11), with no RM training:
// per corruption type, how often the LM ranks the real passage above the corrupted one by its mean
// log-likelihood per answer token, by its total log-likelihood, and by the log-probability of the end id after
// the answer. The pairs are train-rm's held-out pairs (same seed, count, types, lengths and encoding); the
// "policy" type is left out (its rejected side is sampled from the checkpoint itself). A measurement tool
// (`npx tsx apps/trainer/src/rm/lm-signal.ts CKPT...`), not part of any run.
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
  const out: LmSignal = { byType: {} };
  for (const p of pairs) {
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
      `  pairs: ${Object.entries(s.byType)
        .map(([t, v]) => `${t} ${v.pairs}`)
        .join(', ')}`,
    );
  }
}
