// Runs ONNX models with onnxruntime-node in a worker thread: feeds go in as plain arrays, outputs come back as
// {dims, data} Float32Arrays. Used at run time (e.g. an exported reward model scoring answers without
// blocking the trainer's thread) and by the round-trip tests: under jest's ESM VM realm the runtime's own
// output tensors fail its `instanceof Float32Array` checks, a plain worker has no such realm split.
// Sessions are cached per model path. An idle worker does not keep the process alive (it is referenced only
// while a request is pending), so a scorer nobody closes cannot hang a CLI at exit. Not a session manager:
// one worker, requests answered in order.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface OrtFeed {
  type: 'int64' | 'float32';
  data: readonly number[];
  dims: readonly number[];
}
export type OrtOutputs = Record<string, { dims: number[]; data: Float32Array }>;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(require.resolve('onnxruntime-node', { paths: [workerData.from] }));
const sessions = new Map();
parentPort.on('message', async ({ id, model, feeds, optional }) => {
  try {
    let s = sessions.get(model);
    if (!s) { s = await ort.InferenceSession.create(model); sessions.set(model, s); }
    const inputs = {};
    for (const [k, f] of Object.entries(feeds)) {
      if (optional.includes(k) && !s.inputNames.includes(k)) continue;
      inputs[k] = f.type === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(f.data, (v) => BigInt(v)), f.dims)
        : new ort.Tensor('float32', Float32Array.from(f.data), f.dims);
    }
    const r = await s.run(inputs);
    const out = {};
    for (const [k, t] of Object.entries(r)) out[k] = { dims: t.dims.map(Number), data: Float32Array.from(t.data) };
    parentPort.postMessage({ id, out });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

export class OrtWorker {
  private readonly worker: Worker;
  private next = 0;
  private failure: Error | null = null;
  private readonly pending = new Map<number, { resolve: (o: OrtOutputs) => void; reject: (e: Error) => void }>();

  constructor() {
    const from = fileURLToPath(new URL('.', import.meta.url)); // resolve the runtime from this package
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { from } });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; out?: OrtOutputs; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.out) p?.resolve(m.out);
      else p?.reject(new Error(m.error ?? 'onnxruntime worker: empty reply'));
    });
    // a crashed worker fails every pending request instead of leaving them waiting forever
    this.worker.on('error', (e) => {
      const failure = new Error(`onnxruntime worker failed: ${e.message}`);
      this.failure = failure;
      for (const p of this.pending.values()) p.reject(failure);
      this.pending.clear();
    });
  }

  /**
   * Run the model at `modelPath` (an .onnx file) on `feeds`. Feeds named in `optional` are sent only when the
   * graph declares an input of that name (position_ids, which a Hugging Face classifier export lacks).
   */
  run(modelPath: string, feeds: Record<string, OrtFeed>, optional: readonly string[] = []): Promise<OrtOutputs> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, model: modelPath, feeds, optional });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
