// `lwz-train serve --checkpoint DIR [--port P] [--host H]`: an OpenAI-compatible server (/v1/models,
// /v1/completions, /v1/chat/completions with SSE streaming, /health) over the checkpoint, every request
// sharing one continuous batch. Binds 127.0.0.1 unless --host says otherwise. The server itself is
// @lwz/rollout's startServer; this file parses options, starts it and stops it on SIGINT/SIGTERM.
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfig, z } from '@lwz/core';
import { LocalRollout, startServer, type RunningServer } from '@lwz/rollout';
import { resolveCheckpoint } from '../checkpoints';

const OptionsSchema = z.object({
  checkpoint: z.string().min(1),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** default: the checkpoint directory's name */
  modelName: z.string().min(1).optional(),
  maxBatch: z.coerce.number().int().min(1).default(32),
  kvBudgetMb: z.coerce.number().int().min(1).default(1024),
  maxTokens: z.coerce.number().int().min(1).optional(),
  maxConcurrent: z.coerce.number().int().min(1).default(64),
  maxQueued: z.coerce.number().int().min(0).default(256),
  maxBodyKb: z.coerce.number().int().min(1).default(1024),
});
export type ServeCommandOptions = z.input<typeof OptionsSchema>;

export async function run(input: ServeCommandOptions): Promise<{ server: RunningServer; rollout: LocalRollout; modelName: string }> {
  const o = parseConfig(OptionsSchema, input, 'lwz-train serve options', { flags: true });
  // a run directory stands for its newest checkpoint; the served name is the directory given
  const rollout = LocalRollout.fromCheckpoint(resolveCheckpoint(o.checkpoint, '--checkpoint'), {
    maxBatch: o.maxBatch,
    kvBudgetBytes: o.kvBudgetMb * 2 ** 20,
  });
  const modelName = o.modelName ?? basename(resolve(o.checkpoint));
  const server = await startServer(rollout, {
    host: o.host,
    port: o.port,
    modelName,
    maxTokens: o.maxTokens,
    maxConcurrent: o.maxConcurrent,
    maxQueued: o.maxQueued,
    maxBodyBytes: o.maxBodyKb * 1024,
  });
  return { server, rollout, modelName };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('OpenAI-compatible server: /v1/models, /v1/completions, /v1/chat/completions (SSE streaming), /health')
    .requiredOption(
      '--checkpoint <dir>',
      'checkpoint directory (Hugging Face layout, with tokenizer.json), or a run directory (its newest checkpoint)',
    )
    .option('--port <port>', 'TCP port (0 = any free port)', '8000')
    .option('--host <host>', 'address to bind (default loopback only; 0.0.0.0 exposes it to the network)', '127.0.0.1')
    .option('--model-name <name>', "the model name clients send (default: the checkpoint directory's name)")
    .option('--max-batch <n>', 'most answers decoded together', '32')
    .option('--kv-budget-mb <n>', 'KV cache memory cap in MiB', '1024')
    .option('--max-tokens <n>', 'most new tokens one choice may ask for (default: the context length)')
    .option('--max-concurrent <n>', 'requests generating at once', '64')
    .option('--max-queued <n>', 'requests waiting beyond that before 429', '256')
    .option('--max-body-kb <n>', 'largest request body in KiB (413 beyond)', '1024')
    .action(async (o: ServeCommandOptions) => {
      const { server, rollout, modelName } = await run(o);
      console.error(`serving ${modelName} at ${server.url} (Ctrl-C stops)`);
      await stopOnSignal(server, rollout);
    });
}

/**
 * Resolves once SIGINT or SIGTERM has stopped the server, saying so and how many requests it cut off (their clients
 * see the connection close: a server that went quiet and exited 0 left an operator guessing what was lost).
 */
export function stopOnSignal(server: RunningServer, rollout: LocalRollout, log = (line: string) => console.error(line)): Promise<void> {
  return new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop); // a second Ctrl-C while stopping ends the process at once
      const { running, waiting } = server.stats();
      const cut = running + waiting;
      log(
        `serve: ${signal}: stopping${cut ? `; ${cut} request${cut === 1 ? '' : 's'} in flight cut off (their clients see the connection close)` : ''}`,
      );
      void server
        .close()
        .then(() => rollout.close())
        .then(() => {
          log('serve: stopped');
          done();
        });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
