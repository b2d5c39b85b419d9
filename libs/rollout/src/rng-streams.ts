// Where each answer's randomness comes from: answer j of prompt p under run seed s draws one uniform per token
// from sampleStream(promptSeed(s, p), j), whatever batch slot it sits in, whenever it is admitted, and
// whether it runs here or on our `serve` (the remote backend sends promptSeed(s, p) as the request's `seed`
// and asks for n answers). So continuous batching, preemption and remote rollout give the same samples.
import { Rng } from '@lwz/core';

/** The 32-bit seed of prompt p's group under run seed `seed` (what a remote request carries as `seed`). */
export function promptSeed(seed: number, promptIndex: number): number {
  return new Rng(seed).split(`prompt/${promptIndex}`).nextU32();
}

/** The uniform stream of answer `sampleIndex` of a request seeded `requestSeed`. */
export function sampleStream(requestSeed: number, sampleIndex: number): Rng {
  return new Rng(requestSeed).split(`sample/${sampleIndex}`);
}
