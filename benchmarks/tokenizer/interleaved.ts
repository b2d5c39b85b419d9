// Standalone: `npx tsx benchmarks/tokenizer/interleaved.ts [reps]`. The tokenizer suite's comparison with the
// two libraries' runs interleaved (ours cold, ours warm, HF cold, HF warm, repeated), so load from other
// processes on a shared machine hits both sides alike; prints median MB/s and the ratios. Not a suite.
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '@lwz/tokenizer';
import { englishText, tokenizerFiles } from './inputs';

const reps = Number(process.argv[2] ?? 5);
const text = englishText(1_000_000);
const mb = Buffer.byteLength(text) / 1e6;
const mbPerS = (fn: () => unknown): number => {
  const t0 = performance.now();
  fn();
  return mb / ((performance.now() - t0) / 1000);
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (const name of ['qwen3', 'llama3'] as const) {
  const files = tokenizerFiles(name);
  const ours = Tokenizer.fromFile(files.json);
  const hf = new HfTokenizer(JSON.parse(readFileSync(files.json, 'utf8')), JSON.parse(readFileSync(files.config, 'utf8')));
  const hfModel = hf.model as unknown as { clear_cache(): void };
  const a = ours.encode(text);
  const b = hf.encode(text).ids;
  if (a.length !== b.length || a.some((id, i) => id !== b[i])) throw new Error(`${name}: ids differ`);
  const runs = { oursCold: [] as number[], oursWarm: [] as number[], hfCold: [] as number[], hfWarm: [] as number[] };
  for (let i = 0; i < reps; i++) {
    ours.clearCache();
    runs.oursCold.push(mbPerS(() => ours.encode(text)));
    runs.oursWarm.push(mbPerS(() => ours.encode(text)));
    hfModel.clear_cache();
    runs.hfCold.push(mbPerS(() => hf.encode(text)));
    runs.hfWarm.push(mbPerS(() => hf.encode(text)));
  }
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Number(median(v).toFixed(2))]));
  console.log(
    `${name}: MB/s ours cold ${m.oursCold} warm ${m.oursWarm} | @huggingface/tokenizers cold ${m.hfCold} warm ${m.hfWarm}` +
      ` | ratio cold ${(m.oursCold / m.hfCold).toFixed(1)}x warm ${(m.oursWarm / m.hfWarm).toFixed(1)}x (${a.length} tokens, identical ids)`,
  );
}
