// The continuous-batching engine: a FIFO of answers; each step sizes the KV cache (kv-plan.ts), admits queued
// answers into free slots (a prompt prefilled once, siblings running beside it copying its KV), decodes one token for every
// running answer in one batched forward over slots [0, active), and moves the last running row into each
// finished row's slot. Yields to the event loop between steps so `serve` requests join the running batch.
// Not sampling (sampler.ts) nor stop rules (stopping.ts).
import { UserError } from '@lwz/core';
import { tensor, type Tensor } from '@lwz/kernels';
import { Answer, PromptGroup, type Detokenizer, type GroupSpec } from './answer';
import { mib, planKv } from './kv-plan';
import { buildProcessors } from './processors';
import { sampleTokens, type SampleRequest } from './sampler';
import type { SlotModel } from './slot-model';
import { StoppingCriteria } from './stopping';

export interface EngineOptions {
  /** most answers decoded together (default 32) */
  maxBatch?: number;
  /** KV cache memory cap in bytes (default 1 GiB) */
  kvBudgetBytes?: number;
  /** prompt tokens fed per forward while prefilling (default 512): bounds activation memory */
  prefillChunk?: number;
}

export interface EngineStats {
  /** tokens sampled so far (all answers) */
  tokens: number;
  finished: number;
  steps: number;
  /** times a running answer was preempted to make room */
  preemptions: number;
}

export interface GroupHandle {
  /** the group's answers, in sample order, once all are finished */
  readonly done: Promise<Answer[]>;
  /** stop generating (a client went away); `done` still resolves with what exists */
  cancel(): void;
}

/**
 * The engine's refusal of an answer whose cache row cannot fit the KV budget, with the numbers behind it, so a
 * caller can say the same in its own terms (sample names the prompt file's row and its flags) without checking again.
 */
export class KvBudgetError extends UserError {
  constructor(
    message: string,
    /** the prompt's tokens */
    readonly promptTokens: number,
    /** the new tokens asked for (capped by the context) */
    readonly maxNewTokens: number,
    /** the most new tokens that fit after this prompt; below 1: the prompt alone does not fit */
    readonly fit: number,
    /** set by LocalRollout.generate: the prompt's index in the call, and the most new tokens every prompt of it fits */
    readonly call?: { promptIndex: number; fitsEvery: number },
  ) {
    super(message);
  }
}

interface Pending {
  group: PromptGroup;
  resolve: (answers: Answer[]) => void;
  reject: (e: unknown) => void;
}

/**
 * Cache positions a queued answer needs to be admitted: its prefill and the next token's KV, but never more than the
 * answer can ever hold (a one-token answer writes no KV after its prefill: asking one more position past a
 * 64-token block grew the cache beyond a budget submit() had accepted, and failed every request then running).
 */
const admitNeed = (a: Answer): number => {
  const prefill = a.prefillIds().length;
  return Math.max(prefill, Math.min(prefill + 1, a.group.promptLength + a.group.spec.maxNewTokens - 1));
};

export class Engine {
  readonly stats: EngineStats = { tokens: 0, finished: 0, steps: 0, preemptions: 0 };
  private readonly maxBatch: number;
  private readonly budget: number;
  private readonly prefillChunk: number;
  private readonly queue: Answer[] = [];
  private slots: Answer[] = []; // running answers; slots[i].slot === i
  private readonly pending = new Set<Pending>();
  private running = false;
  private granularity = 64;

  constructor(
    readonly model: SlotModel,
    readonly detok: Detokenizer,
    opts: EngineOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 32;
    this.budget = opts.kvBudgetBytes ?? 2 ** 30;
    this.prefillChunk = opts.prefillChunk ?? 512;
    if (!(this.maxBatch >= 1) || !(this.budget > 0) || !(this.prefillChunk >= 1)) {
      throw new Error(
        `Engine: maxBatch ${this.maxBatch}, kvBudgetBytes ${this.budget} and prefillChunk ${this.prefillChunk} must be positive`,
      );
    }
  }

  /**
   * What submit() would refuse, without queueing anything: a caller with several prompts checks them all first, so
   * a bad one never leaves the earlier ones generating for nobody.
   */
  check(spec: GroupSpec): void {
    this.capped(spec);
  }

  private capped(spec: GroupSpec): GroupSpec {
    const P = spec.promptIds.length;
    if (P === 0) throw new UserError('the prompt is empty (0 tokens)');
    if (P >= this.model.contextLength)
      throw new UserError(`a prompt of ${P} tokens leaves no room in the ${this.model.contextLength}-token context`);
    const bad = spec.promptIds.find((id) => !(Number.isInteger(id) && id >= 0 && id < this.model.vocabSize));
    if (bad !== undefined) throw new UserError(`prompt id ${bad} is outside the model's vocabulary [0, ${this.model.vocabSize})`);
    const capped = { ...spec, maxNewTokens: Math.min(spec.maxNewTokens, this.model.contextLength - P) };
    // one answer's whole cache row must fit the budget, or the run would fail mid-way (at the step that grows the
    // cache past it, failing every request then running); refused here, before anything is generated
    const fit = this.maxNewTokensWithinBudget(P);
    if (capped.maxNewTokens > fit) {
      const rowTokens = Math.ceil((P + capped.maxNewTokens - 1) / this.granularity) * this.granularity;
      throw new KvBudgetError(
        `KV budget ${mib(this.budget)} cannot hold one answer of up to ${P + capped.maxNewTokens - 1} tokens ` +
          `(a ${P}-token prompt and ${capped.maxNewTokens} new; ${this.model.kvBytesPerToken} bytes per token, ` +
          `${mib(rowTokens * this.model.kvBytesPerToken)}): ` +
          (fit >= 1 ? `ask for at most ${fit} new tokens, or raise the KV budget` : 'the prompt alone does not fit; raise the KV budget') +
          ' (--kv-budget-mb of sample and serve)',
        P,
        capped.maxNewTokens,
        fit,
      );
    }
    return capped;
  }

  /**
   * Most new tokens one answer of a `promptLength`-token prompt may have for its cache row (prompt and answer but
   * its last token, in blocks of `granularity`) to fit the KV budget; below 1 when the prompt alone does not fit.
   */
  maxNewTokensWithinBudget(promptLength: number): number {
    const rowTokens = Math.floor(this.budget / this.model.kvBytesPerToken / this.granularity) * this.granularity;
    return rowTokens - promptLength + 1;
  }

  /** Queue one prompt's n answers; the engine starts (or keeps) running. */
  submit(spec: GroupSpec): GroupHandle {
    const capped = this.capped(spec);
    const criteria = new StoppingCriteria({ stopTokenIds: spec.stopTokenIds, stop: spec.config.stop, maxNewTokens: capped.maxNewTokens });
    const group = new PromptGroup(capped, buildProcessors(spec.config, this.drawLimit), criteria, this.detok, this.model.vocabSize);
    let entry!: Pending;
    const done = new Promise<Answer[]>((resolve, reject) => (entry = { group, resolve, reject }));
    this.pending.add(entry);
    this.queue.push(...group.answers);
    this.pump();
    return {
      done,
      cancel: () => {
        group.cancelled = true;
        this.pump();
      },
    };
  }

  /**
   * Where the model has more ids than the tokenizer (an embedding padded past it, as Qwen2.5's), only the ids the
   * tokenizer can decode are drawn: their logits stay in the raw log-probs (the trainer's forward sees them too),
   * but an answer never holds an id without text. Undefined when every id of the model decodes.
   */
  private get drawLimit(): number | undefined {
    const n = this.detok.vocabSize;
    return n !== undefined && n < this.model.vocabSize ? n : undefined;
  }

  /** Answers queued or running. */
  get load(): { running: number; queued: number } {
    return { running: this.slots.length, queued: this.queue.length };
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      try {
        this.step();
      } catch (e) {
        this.failAll(e);
      }
      if (this.queue.length || this.slots.length) setImmediate(tick);
      else {
        this.running = false;
        this.model.release(); // idle: give the KV memory back
      }
    };
    setImmediate(tick);
  }

  /** One scheduling step: size the cache, admit, decode, retire. */
  step(): void {
    this.dropCancelled();
    this.resizeIfNeeded();
    const admitted = this.admit();
    this.drawFirstTokens(admitted);
    this.retire();
    if (this.slots.length) this.decode();
    this.retire();
    this.stats.steps++;
  }

  private dropCancelled(): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].group.cancelled) this.queue.splice(i, 1);
    for (const a of this.slots) if (a.group.cancelled && !a.finish) a.finish = { reason: 'stop' };
    for (const p of this.pending) if (p.group.cancelled) for (const a of p.group.answers) a.finish ??= { reason: 'stop' };
  }

  private resizeIfNeeded(): void {
    const next = this.queue[0];
    const needs = this.slots.map((a) => a.cachedTarget + 1);
    const all = [...this.slots, ...this.queue];
    const needMax = Math.max(1, ...all.map((a) => a.group.promptLength + a.group.spec.maxNewTokens - 1));
    const planFor = (needNow: number[]) =>
      planKv({
        rows: this.model.rows,
        capacity: this.model.capacity,
        active: this.slots.length,
        demand: all.length,
        needNow: Math.max(1, ...needNow),
        needMax,
        kvBytesPerToken: this.model.kvBytesPerToken,
        budgetBytes: this.budget,
        maxBatch: this.maxBatch,
        granularity: this.granularity,
      });
    let plan = planFor(next ? [...needs, admitNeed(next)] : needs);
    // the cache grows for a queued answer only when no running one must leave for it: a preempted answer goes back
    // AHEAD of it in the queue, so it was not even admitted, and the burst ran on fewer rows (it waits for rows to free)
    if (next && plan.preempt > 0) {
      const running = planFor(needs);
      if (running.preempt < plan.preempt) plan = running;
    }
    for (let k = 0; k < plan.preempt; k++) {
      const a = this.slots.pop() as Answer; // the most recently admitted sit last
      a.slot = -1;
      this.queue.unshift(a);
      this.stats.preemptions++;
    }
    if (plan.rows !== this.model.rows || plan.capacity !== this.model.capacity) {
      this.model.resize(
        plan.rows,
        plan.capacity,
        this.slots.map((_, i) => i),
      );
    }
  }

  /** Prefill `ids` into `slot` in chunks; returns the last chunk's logits (1, V). */
  private prefill(slot: number, ids: readonly number[]): Tensor {
    let logits: Tensor | null = null;
    for (let s = 0; s < ids.length; s += this.prefillChunk) {
      const chunk = Int32Array.from(ids.slice(s, s + this.prefillChunk));
      logits?.dispose();
      logits = this.model.forward(slot, chunk, chunk.length, [chunk.length]);
    }
    return logits as Tensor;
  }

  /** Fill free slots from the queue; returns the answers that still need their first token. */
  private admit(): Answer[] {
    const fresh: Answer[] = [];
    while (this.queue.length && this.slots.length < this.model.rows) {
      const a = this.queue[0];
      if (admitNeed(a) > this.model.capacity) break; // waits for the cache to grow next step
      this.queue.shift();
      const slot = this.slots.length;
      a.slot = slot;
      this.slots.push(a);
      const g = a.group;
      if (a.tokenIds.length > 0) {
        this.prefill(slot, a.prefillIds()).dispose(); // resumed after preemption: its next token is already drawn
        continue;
      }
      const sibling = g.answers.find((s) => s !== a && s.slot >= 0 && this.model.length(s.slot) >= g.promptLength);
      if (sibling) this.model.copySlot(sibling.slot, slot, g.promptLength);
      else {
        const logits = this.prefill(slot, g.spec.promptIds);
        if (!g.firstLogits) g.firstLogits = logits.readHost((h) => Float32Array.from(h)); // a copy
        logits.dispose();
      }
      fresh.push(a);
    }
    return fresh;
  }

  private request(a: Answer, row: number): SampleRequest {
    return {
      row,
      chain: a.group.chain,
      uniform: a.nextUniform(),
      history: a.history,
      topLogprobs: a.group.spec.config.topLogprobs,
    };
  }

  private drawFirstTokens(fresh: Answer[]): void {
    if (!fresh.length) return;
    const groups = [...new Set(fresh.map((a) => a.group))];
    const V = this.model.vocabSize;
    const rows = new Float32Array(groups.length * V); // (G, V): each group's prompt logits once
    groups.forEach((g, i) => rows.set(g.firstLogits as Float32Array, i * V));
    const logits = tensor(rows, [groups.length, V]);
    const tokens = sampleTokens(
      logits,
      fresh.map((a) => this.request(a, groups.indexOf(a.group))),
    );
    logits.dispose();
    fresh.forEach((a, i) => this.accept(a, tokens[i]));
    for (const g of groups) if (g.answers.every((a) => a.tokenIds.length > 0 || a.finish)) g.firstLogits = null;
  }

  private decode(): void {
    const B = this.slots.length;
    const ids = Int32Array.from(this.slots, (a) => a.tokenIds[a.tokenIds.length - 1]);
    const logits = this.model.forward(0, ids, 1, new Array<number>(B).fill(1));
    const tokens = sampleTokens(
      logits,
      this.slots.map((a, i) => this.request(a, i)),
    );
    logits.dispose();
    this.slots.forEach((a, i) => this.accept(a, tokens[i]));
  }

  private accept(a: Answer, token: Parameters<Answer['accept']>[0]): void {
    const delta = a.accept(token);
    this.stats.tokens++;
    if (delta || a.finish) a.group.spec.onDelta?.(a, delta, token);
    if (a.finish) {
      this.stats.finished++;
      a.group.spec.onFinish?.(a);
    }
  }

  /** Finished answers leave their slots (the last running row moves into each hole); done groups resolve. */
  private retire(): void {
    for (let i = 0; i < this.slots.length; ) {
      const a = this.slots[i];
      if (!a.finish) {
        i++;
        continue;
      }
      a.slot = -1;
      const last = this.slots.pop() as Answer;
      if (last !== a) {
        this.model.copySlot(last.slot, i, this.model.length(last.slot));
        last.slot = i;
        this.slots[i] = last;
      }
      this.model.clearSlot(this.slots.length);
    }
    for (const p of this.pending) {
      if (!p.group.done) continue;
      this.pending.delete(p);
      p.group.firstLogits = null;
      p.resolve(p.group.answers);
    }
  }

  private failAll(e: unknown): void {
    for (const p of this.pending) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
    for (const a of this.slots) a.slot = -1;
    this.slots = [];
    this.model.release();
  }
}
