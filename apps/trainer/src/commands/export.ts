// `lwz-train export --checkpoint DIR --format gguf|onnx [--dtype f32|f16] [--variant logits|logits-kv|score|seq-cls]
// --out FILE`: a checkpoint as a GGUF file for llama.cpp or an ONNX model for onnxruntime. The work is
// @lwz/export's exportCheckpoint; this file only parses options and prints a one-line summary.
import type { Command } from 'commander';
import { exportCheckpoint, type ExportResult } from '@lwz/export';
import { resolveCheckpoint } from '../checkpoints';

export interface ExportCommandOptions {
  checkpoint: string;
  format: string;
  out: string;
  dtype: string;
  variant?: string;
}

export function run(opts: ExportCommandOptions): ExportResult {
  const checkpoint = resolveCheckpoint(opts.checkpoint, '--checkpoint'); // a run directory: its newest checkpoint
  return exportCheckpoint({ checkpoint, format: opts.format, out: opts.out, dtype: opts.dtype, variant: opts.variant });
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a checkpoint to GGUF (llama.cpp) or ONNX (onnxruntime)')
    .requiredOption(
      '--checkpoint <dir>',
      'checkpoint directory (Hugging Face layout; GGUF also needs tokenizer.json), or a run directory (its newest checkpoint)',
    )
    .requiredOption('--format <format>', 'gguf or onnx')
    .requiredOption('--out <file>', 'output file (ONNX weights over 2 GB go to <file>.data beside it)')
    .option('--dtype <dtype>', 'f32 or f16 weights', 'f32')
    .option(
      '--variant <variant>',
      'ONNX graph: logits (default for a language model), logits-kv (past key/values in and out), score (value head; default for a reward model) or seq-cls (value head as a Hugging Face classifier: no position_ids, logits (B, 1))',
    )
    .action((o: ExportCommandOptions) => {
      const r = run(o);
      const extra = r.externalData ? ` + ${r.externalData}` : '';
      process.stdout.write(`${r.format} (${r.architecture}, ${r.dtype}) written to ${r.out}${extra}: ${r.bytes} bytes\n`);
      for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
    });
}
