// Text samples from a checkpoint, for pretraining reports: plain continuation of a few prompts with the
// KV cache, temperature sampling driven by a seeded Rng. Not the rollout engine (batched G-sample
// generation with stop rules arrives with the rollout library); one prompt at a time is enough here.
import type { Rng } from '@lwz/core';
import { sample, tensor } from '@lwz/kernels';
import { KvCache, decodeStep, type Qwen2Model } from '@lwz/model';
import type { Tokenizer } from '@lwz/tokenizer';

export interface SampleSettings {
  maxNewTokens: number;
  temperature: number;
  /** stop at this id (end of text) */
  stopId?: number;
}

export function continueText(model: Qwen2Model, tokenizer: Tokenizer, prompt: string, s: SampleSettings, rng: Rng): string {
  const device = model.device;
  const promptIds = tokenizer.encode(prompt, { addSpecialTokens: false });
  if (promptIds.length === 0) throw new Error('continueText: the prompt encodes to no tokens');
  const capacity = Math.min(model.config.maxPositionEmbeddings, promptIds.length + s.maxNewTokens);
  const cache = new KvCache(model, 1, capacity);
  const out: number[] = [];
  let next: number[] = promptIds; // tokens fed at the next step
  try {
    while (out.length < s.maxNewTokens && cache.lengths[0] + next.length <= capacity) {
      const step = tensor(Int32Array.from(next), [1, next.length], { device, dtype: 'i32' });
      const full = decodeStep(model, cache, step, [next.length]);
      // a model with more ids than the tokenizer (an embedding padded past it, as Qwen2.5's) draws only ids it decodes
      const logits = tokenizer.vocabSize < full.shape[1] ? full.view(0, [1, tokenizer.vocabSize]) : full;
      const ids = sample(logits, [rng.next()], { temperature: s.temperature });
      const id = ids.toHost()[0];
      for (const t of new Set([step, full, logits, ids])) t.dispose();
      if (id === s.stopId) break;
      out.push(id);
      next = [id];
    }
  } finally {
    cache.dispose();
  }
  return tokenizer.decode(out, { skipSpecialTokens: true });
}
