// Open-addressing hash table from a pair of non-negative int32 ids to an int32 value (BPE merge ranks).
// Faster than a Map keyed by a * V + b, whose keys are not small integers once V exceeds 2^15. Fixed size,
// insert-only; not a general map.

// bound once: under jest's vm context a `Math.imul` in the probe loop is a lookup on the context's global object
const { imul } = Math;

export class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private count = 0;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2; // load factor <= 0.5
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.values = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(a: number, b: number): number {
    return (imul(a, 0x9e3779b1) ^ imul(b + 0x7f4a7c15, 0x85ebca77)) & this.mask;
  }

  /** Insert (a, b) -> value unless (a, b) is already present (the first insert wins). */
  setIfAbsent(a: number, b: number, value: number): void {
    for (let i = this.slot(a, b); ; i = (i + 1) & this.mask) {
      if (this.left[i] === -1) {
        if (this.count * 2 >= this.mask) throw new Error('PairTable is full');
        this.left[i] = a;
        this.right[i] = b;
        this.values[i] = value;
        this.count++;
        return;
      }
      if (this.left[i] === a && this.right[i] === b) return;
    }
  }

  /** The value stored for (a, b), or -1. */
  get(a: number, b: number): number {
    for (let i = this.slot(a, b); ; i = (i + 1) & this.mask) {
      const l = this.left[i];
      if (l === -1) return -1;
      if (l === a && this.right[i] === b) return this.values[i];
    }
  }
}
