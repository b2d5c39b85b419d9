// The unigram entropy of a token stream, H = -sum_v p(v) ln p(v) in nats per token: what a model that
// ignores context can at best reach, so a trained model's loss must end far below it.

export function unigramEntropy(tokens: Int32Array): number {
  const counts = new Map<number, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / tokens.length;
    h -= p * Math.log(p);
  }
  return h;
}
