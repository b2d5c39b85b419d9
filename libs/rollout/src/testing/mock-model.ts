// Mock SlotModels for engine tests, no weights. Each slot keeps the token sequence it was fed; the logits
// are a pure function of that WHOLE sequence (a hash), so a slot copied, moved, resized or preempted wrongly
// changes every later token. HashModel: pseudo-random logits with an end-of-text bias that grows with
// length (answers end at different lengths). ScriptModel: the logits pick the next token of a fixed script
// (greedy decoding replays it). Test code only.
import { splitmix32 } from '@lwz/core';
import { tensor, type Tensor } from '@lwz/kernels';
import type { SlotModel } from '../slot-model';

export abstract class MockSlotModel implements SlotModel {
  readonly kvBytesPerToken = 64;
  /** every forward's (first slot, rows, tokens per row) */
  readonly calls: { first: number; B: number; T: number }[] = [];
  maxRowsSeen = 0;
  private seqs: number[][] = [];
  private cap = 0;

  constructor(
    readonly vocabSize: number,
    readonly contextLength: number,
  ) {}

  /** (V,) next-token logits after `seq` */
  abstract logitsAfter(seq: readonly number[]): Float32Array;

  get rows(): number {
    return this.seqs.length;
  }

  get capacity(): number {
    return this.cap;
  }

  resize(rows: number, capacity: number, keep: readonly number[] = []): void {
    const old = this.seqs;
    this.seqs = Array.from({ length: rows }, (_, i) => {
      const src = i < keep.length ? keep[i] : -1;
      if (src >= 0 && old[src].length > capacity) throw new Error(`mock resize: slot ${src} holds ${old[src].length} > ${capacity}`);
      return src >= 0 ? [...old[src]] : [];
    });
    this.cap = capacity;
    this.maxRowsSeen = Math.max(this.maxRowsSeen, rows);
  }

  length(slot: number): number {
    return this.seqs[slot].length;
  }

  copySlot(src: number, dst: number, length: number): void {
    if (length > this.seqs[src].length) throw new Error(`mock copySlot: slot ${src} holds ${this.seqs[src].length} < ${length}`);
    this.seqs[dst] = this.seqs[src].slice(0, length);
  }

  clearSlot(slot: number): void {
    this.seqs[slot] = [];
  }

  forward(first: number, ids: Int32Array, T: number, counts: readonly number[]): Tensor {
    const B = counts.length;
    this.calls.push({ first, B, T });
    const V = this.vocabSize;
    const out = new Float32Array(B * V);
    for (let b = 0; b < B; b++) {
      const seq = this.seqs[first + b];
      for (let t = 0; t < counts[b]; t++) seq.push(ids[b * T + t]);
      if (seq.length > this.cap) throw new Error(`mock forward: slot ${first + b} exceeds capacity ${this.cap}`);
      out.set(this.logitsAfter(seq), b * V);
    }
    return tensor(out, [B, V]);
  }

  release(): void {
    this.seqs = [];
    this.cap = 0;
  }
}

function hashSeq(seq: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const id of seq) h = splitmix32(h ^ id);
  return h;
}

export class HashModel extends MockSlotModel {
  constructor(
    vocabSize: number,
    contextLength: number,
    readonly eos: number,
    /** end-of-text logit bias per token of sequence (it starts at -4) */
    readonly eosSlope = 0.15,
    readonly spread = 3,
  ) {
    super(vocabSize, contextLength);
  }

  logitsAfter(seq: readonly number[]): Float32Array {
    const h = hashSeq(seq);
    const out = Float32Array.from(
      { length: this.vocabSize },
      (_, v) => ((splitmix32(h ^ Math.imul(v + 1, 0x9e3779b1)) / 2 ** 32) * 2 - 1) * this.spread,
    );
    out[this.eos] += seq.length * this.eosSlope - 4;
    return out;
  }
}

export class ScriptModel extends MockSlotModel {
  constructor(
    vocabSize: number,
    contextLength: number,
    readonly promptLength: number,
    readonly script: readonly number[],
  ) {
    super(vocabSize, contextLength);
  }

  logitsAfter(seq: readonly number[]): Float32Array {
    const out = new Float32Array(this.vocabSize);
    const next = this.script[seq.length - this.promptLength] ?? 0;
    out[next] = 20;
    return out;
  }
}
