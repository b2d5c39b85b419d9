// One answer being generated and the prompt group it belongs to. An answer owns everything that makes it
// reproducible on its own: its uniform stream, its streaming decoder, its token history; the engine only
// decides which slot it sits in. A group is one prompt with its n answers, its resolved settings and the
// logits after its prompt (kept until every answer has drawn its first token from them).
// Not scheduling (engine.ts) and not the stop rules themselves (stopping.ts).
import { codePoints, type Rng } from '@lwz/core';
import type { StreamDecoder } from '@lwz/tokenizer';
import type { GenerationConfig } from './generation-config';
import { TokenSet, type ProcessorChain } from './processors';
import { sampleStream } from './rng-streams';
import type { SampledToken, TokenLogprob } from './sampler';
import type { Finish, StoppingCriteria } from './stopping';

/** Text from token ids, piece by piece (a @lwz/tokenizer Tokenizer is one). */
export interface Detokenizer {
  decodeStream(options?: { skipSpecialTokens?: boolean }): StreamDecoder;
  /** ids it can decode: [0, vocabSize); absent: any id of the model */
  readonly vocabSize?: number;
}

/** One prompt's request as the engine runs it (settings resolved by the caller). */
export interface GroupSpec {
  promptIds: readonly number[];
  /** the seed the answers' streams derive from (rng-streams.ts) */
  requestSeed: number;
  /** new tokens per answer, already capped by the context */
  maxNewTokens: number;
  /** which of the n answers to produce (default all): a resumed run skips those it already has */
  sampleIndices?: readonly number[];
  config: GenerationConfig;
  /** stop token ids, end-of-sequence ids included */
  stopTokenIds: readonly number[];
  /** streaming: called with each answer's newly safe text (stop-string prefixes held back) */
  onDelta?: (answer: Answer, delta: string, token: SampledToken) => void;
  /** called once per answer when it finishes */
  onFinish?: (answer: Answer) => void;
}

export class PromptGroup {
  readonly answers: Answer[];
  /** (V,) logits after the prompt, while some answer still has to draw its first token */
  firstLogits: Float32Array | null = null;
  cancelled = false;

  constructor(
    readonly spec: GroupSpec,
    readonly chain: ProcessorChain,
    readonly criteria: StoppingCriteria,
    detok: Detokenizer,
    vocabSize: number,
  ) {
    const indices = spec.sampleIndices ?? Array.from({ length: spec.config.n }, (_, j) => j);
    this.answers = indices.map((j) => new Answer(this, j, detok, vocabSize));
  }

  get promptLength(): number {
    return this.spec.promptIds.length;
  }

  get done(): boolean {
    return this.answers.every((a) => a.finish !== null);
  }
}

export class Answer {
  readonly tokenIds: number[] = [];
  /** log p(token) under the raw policy distribution, one per token id */
  readonly logprobs: number[] = [];
  /** per token, the most likely alternatives (when topLogprobs > 0) */
  readonly top: TokenLogprob[][] = [];
  text = '';
  /**
   * per token, the characters (code points) the tokens before it decode to, a character they began but did not
   * finish counting as one: where its text begins in `text` (completions' text_offset). A stop-string cut may leave
   * the last ones past the final text's end.
   */
  readonly textOffsets: number[] = [];
  /** code points in `text` before a finish cuts it */
  private chars = 0;
  finish: Finish | null = null;
  /** cache slot, -1 while queued */
  slot = -1;
  private emitted = 0;
  private readonly rng: Rng;
  private readonly decoder: StreamDecoder;
  readonly history: TokenSet | null;

  constructor(
    readonly group: PromptGroup,
    readonly sampleIndex: number,
    detok: Detokenizer,
    vocabSize: number,
  ) {
    this.rng = sampleStream(group.spec.requestSeed, sampleIndex);
    this.decoder = detok.decodeStream({ skipSpecialTokens: group.spec.config.skipSpecialTokens });
    this.history = group.chain.needsHistory ? new TokenSet(vocabSize, group.spec.promptIds) : null;
  }

  /** Tokens the cache must hold before this answer's next token is fed: the prompt and every sampled token but the last. */
  get cachedTarget(): number {
    return this.group.promptLength + Math.max(0, this.tokenIds.length - 1);
  }

  /** The tokens to prefill when this answer is (re)admitted: prompt, then its answer so far minus the pending token. */
  prefillIds(): number[] {
    return [...this.group.spec.promptIds, ...this.tokenIds.slice(0, -1)];
  }

  nextUniform(): number {
    return this.rng.next();
  }

  /** Take a sampled token; returns the text that became safe to stream. */
  accept(token: SampledToken): string {
    const cfg = this.group.spec.config;
    this.tokenIds.push(token.id);
    this.logprobs.push(token.logprob);
    if (token.top) this.top.push(token.top);
    this.history?.add(token.id);
    const from = this.text.length;
    this.textOffsets.push(this.chars + (this.decoder.holding ? 1 : 0));
    const piece = this.decoder.push(token.id);
    this.chars += codePoints(piece);
    this.text += piece;
    const finish = this.group.criteria.check({ tokenIds: this.tokenIds, text: this.text, newTextFrom: from });
    if (finish) {
      this.finish = finish;
      if (finish.matchStart !== undefined && finish.matchEnd !== undefined) {
        this.text = this.text.slice(0, cfg.includeStopString ? finish.matchEnd : finish.matchStart);
      } else if (typeof finish.stop === 'number' && !cfg.includeStopString) this.text = this.text.slice(0, from);
      else this.text += this.decoder.flush();
    }
    const safe = finish ? this.text.length : this.text.length - this.group.criteria.strings.holdBack(this.text);
    const delta = safe > this.emitted ? this.text.slice(this.emitted, safe) : '';
    this.emitted = Math.max(this.emitted, safe);
    return delta;
  }
}
