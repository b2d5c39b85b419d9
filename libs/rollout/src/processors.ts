// Logits processors: a chain of small classes turning raw next-token logits (one row (V,)) into the
// distribution a token is drawn from: repetition penalty, min-p, temperature, top-k, top-p. Each runs on the
// host (the reference); temperature, top-k and top-p also declare `fused` options that the kernels' sample op
// applies in one native pass. Not the log-probs: those stay raw (sampler.ts). Min-p precedes top-k/top-p
// here, as in vLLM (Hugging Face applies it last), so the fused kernel can finish the chain.
import type { GenerationConfig } from './generation-config';

/** The steps the kernels' sample op applies itself (kernel-signatures.ts sampleForward). */
export interface FusedOptions {
  temperature: number;
  topK: number;
  topP: number;
}

/** Token ids already in a row (prompt and answer), each listed once: what the repetition penalty reads. */
export class TokenSet {
  readonly unique: number[] = [];
  private readonly seen: Uint8Array; // (V,) 1 where the id occurred

  constructor(vocabSize: number, ids: Iterable<number> = []) {
    this.seen = new Uint8Array(vocabSize);
    for (const id of ids) this.add(id);
  }

  add(id: number): void {
    if (this.seen[id]) return;
    this.seen[id] = 1;
    this.unique.push(id);
  }
}

export interface LogitsProcessor {
  readonly name: string;
  /** Rewrite one row of logits (V,) in place; tokens it removes become -Infinity. */
  process(logits: Float32Array, history: TokenSet | null): void;
  /** Present when the kernels' sample op can apply this step itself. */
  readonly fused?: Partial<FusedOptions>;
}

/** Token ids ranked by logit, highest first, lower id first on ties (the kernel's ranking rule). */
function ranked(logits: Float32Array): number[] {
  const ids: number[] = [];
  for (let j = 0; j < logits.length; j++) if (logits[j] > -Infinity) ids.push(j);
  return ids.sort((a, b) => logits[b] - logits[a] || a - b);
}

function maskAllBut(logits: Float32Array, keep: readonly number[]): void {
  const kept = new Set(keep);
  for (let j = 0; j < logits.length; j++) if (!kept.has(j)) logits[j] = -Infinity;
}

/** CTRL / Hugging Face repetition penalty: a seen token's logit l becomes l / p if l > 0, else l * p. */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly name = 'repetition-penalty';
  constructor(readonly penalty: number) {}

  process(logits: Float32Array, history: TokenSet | null): void {
    if (!history) throw new Error('repetition penalty needs the row history');
    for (const id of history.unique) {
      const l = logits[id];
      logits[id] = l > 0 ? l / this.penalty : l * this.penalty;
    }
  }
}

/** Min-p: drop tokens with p_T(j) < minP * max p_T (p_T: softmax at `temperature`), i.e. l_j < l_max + T log minP. */
export class MinPProcessor implements LogitsProcessor {
  readonly name = 'min-p';
  constructor(
    readonly minP: number,
    readonly temperature: number,
  ) {}

  process(logits: Float32Array): void {
    let max = -Infinity;
    for (let j = 0; j < logits.length; j++) if (logits[j] > max) max = logits[j];
    const floor = max + this.temperature * Math.log(this.minP);
    for (let j = 0; j < logits.length; j++) if (logits[j] < floor) logits[j] = -Infinity;
  }
}

/**
 * Ids from `limit` on cannot be drawn: a checkpoint whose embedding is padded past its tokenizer (Qwen2.5: 151,936
 * rows, 151,665 ids) gives those rows logits, but no text. The engine puts it first in the chain of such a model.
 */
export class VocabLimitProcessor implements LogitsProcessor {
  readonly name = 'vocab-limit';
  constructor(readonly limit: number) {}

  process(logits: Float32Array): void {
    logits.fill(-Infinity, this.limit);
  }
}

/** Divide logits by the temperature; temperature 0 keeps only the argmax (greedy). */
export class TemperatureProcessor implements LogitsProcessor {
  readonly name = 'temperature';
  readonly fused: Partial<FusedOptions>;
  constructor(readonly temperature: number) {
    this.fused = { temperature };
  }

  process(logits: Float32Array): void {
    if (this.temperature === 0) {
      maskAllBut(logits, ranked(logits).slice(0, 1));
      return;
    }
    for (let j = 0; j < logits.length; j++) logits[j] /= this.temperature;
  }
}

/** Keep the k highest logits (lower id first on ties). */
export class TopKProcessor implements LogitsProcessor {
  readonly name = 'top-k';
  readonly fused: Partial<FusedOptions>;
  constructor(readonly k: number) {
    this.fused = { topK: k };
  }

  process(logits: Float32Array): void {
    maskAllBut(logits, ranked(logits).slice(0, this.k));
  }
}

/** Keep the shortest prefix of the ranking whose probability is >= topP (of what earlier steps kept). */
export class TopPProcessor implements LogitsProcessor {
  readonly name = 'top-p';
  readonly fused: Partial<FusedOptions>;
  constructor(readonly topP: number) {
    this.fused = { topP };
  }

  process(logits: Float32Array): void {
    const order = ranked(logits);
    if (order.length === 0) return;
    const max = logits[order[0]];
    const p = order.map((j) => Math.exp(logits[j] - max));
    const total = p.reduce((a, b) => a + b, 0);
    let mass = 0;
    let n = 0;
    while (n < order.length) {
      mass += p[n++];
      if (mass >= this.topP * total) break;
    }
    maskAllBut(logits, order.slice(0, n));
  }
}

/** A config's processors, split into the host steps and the fused tail the kernel's sample op applies. */
export class ProcessorChain {
  /** processors run on the host, in order, before the kernel */
  readonly host: LogitsProcessor[];
  /** temperature / top-k / top-p of the fused tail */
  readonly fused: FusedOptions;
  /** ids the chain lets be drawn: [0, vocabLimit) (Infinity without a VocabLimitProcessor) */
  readonly vocabLimit: number;

  constructor(readonly processors: readonly LogitsProcessor[]) {
    let split = processors.length;
    while (split > 0 && processors[split - 1].fused) split--;
    this.host = processors.slice(0, split);
    const fused: FusedOptions = { temperature: 1, topK: 0, topP: 1 };
    for (const p of processors.slice(split)) Object.assign(fused, p.fused);
    this.fused = fused;
    this.vocabLimit = processors.find((p): p is VocabLimitProcessor => p instanceof VocabLimitProcessor)?.limit ?? Infinity;
  }

  /** true when a step reads the row's token history */
  get needsHistory(): boolean {
    return this.host.some((p) => p instanceof RepetitionPenaltyProcessor);
  }

  /** Key of the fused options: rows with equal keys share one kernel call. */
  get fusedKey(): string {
    return `${this.fused.temperature}/${this.fused.topK}/${this.fused.topP}`;
  }

  /** The whole chain on the host (the reference path): `logits` becomes the processed row. */
  applyAll(logits: Float32Array, history: TokenSet | null): void {
    for (const p of this.processors) p.process(logits, history);
  }
}

/**
 * The chain a config asks for. Steps that cannot change anything (top-p 1, greedy min-p...) are left out.
 * vocabLimit: draw only ids below it (VocabLimitProcessor, first); absent: every id of the logits.
 */
export function buildProcessors(
  c: Pick<GenerationConfig, 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty'>,
  vocabLimit?: number,
): ProcessorChain {
  const chain: LogitsProcessor[] = [];
  if (vocabLimit !== undefined) chain.push(new VocabLimitProcessor(vocabLimit));
  const sampling = c.temperature > 0;
  if (c.repetitionPenalty !== 1) chain.push(new RepetitionPenaltyProcessor(c.repetitionPenalty));
  if (sampling && c.minP > 0) chain.push(new MinPProcessor(c.minP, c.temperature));
  chain.push(new TemperatureProcessor(c.temperature));
  if (sampling && c.topK > 0) chain.push(new TopKProcessor(c.topK));
  if (sampling && c.topP < 1) chain.push(new TopPProcessor(c.topP));
  return new ProcessorChain(chain);
}
