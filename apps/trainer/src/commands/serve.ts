// `lwz-train serve --checkpoint DIR [--port P] [--host H]`: an OpenAI-compatible server (/v1/models,
// /v1/completions, /v1/chat/completions with SSE streaming, /health) over the checkpoint, every request
// sharing one continuous batch. Binds 127.0.0.1 unless --host says otherwise. The server itself is
// @lwz/rollout's startServer; this file parses options, starts it and, on SIGINT/SIGTERM, drains it (the requests in
// flight finish for up to --shutdown-grace seconds) and stops; a second signal cuts them off at once.
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
  /** seconds the requests in flight get to finish on SIGINT/SIGTERM; 0 cuts them off at once */
  shutdownGrace: z.coerce
    .number()
    .min(0, 'must be 0 (cut requests off at once) or more seconds')
    .max(86_400, 'at most 86400 seconds (a day)')
    .default(30),
});
export type ServeCommandOptions = z.input<typeof OptionsSchema>;

export interface Serving {
  server: RunningServer;
  rollout: LocalRollout;
  modelName: string;
  /** --shutdown-grace */
  shutdownGraceSeconds: number;
}

export async function run(input: ServeCommandOptions): Promise<Serving> {
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
  return { server, rollout, modelName, shutdownGraceSeconds: o.shutdownGrace };
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
    .option(
      '--shutdown-grace <seconds>',
      'on SIGINT/SIGTERM, seconds the requests running or queued get to finish while new ones get 503 (0 = cut them off at once)',
      '30',
    )
    .action(async (o: ServeCommandOptions) => {
      const serving = await run(o);
      console.error(`serving ${serving.modelName} at ${serving.server.url} (Ctrl-C stops)`);
      await stopOnSignal(serving);
    });
}

const requests = (n: number): string => `${n} request${n === 1 ? '' : 's'}`;
const CUT = '(their clients see the connection close)';

/**
 * Resolves once SIGINT or SIGTERM has stopped the server. The first signal drains it: no new connections or
 * requests, the requests in flight finish for up to the grace period, the rest are cut off; a second signal cuts off
 * at once (a third, with no handler left, ends the process). Every step says how many requests it waits for or cut
 * off: a server that went quiet and exited 0 left an operator guessing what was lost.
 */
export function stopOnSignal(
  { server, rollout, shutdownGraceSeconds: grace }: Pick<Serving, 'server' | 'rollout' | 'shutdownGraceSeconds'>,
  log = (line: string) => console.error(line),
): Promise<void> {
  return new Promise<void>((done) => {
    const cutNow = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', cutNow);
      process.off('SIGTERM', cutNow);
      log(`serve: ${signal} while draining: cutting off ${requests(server.stats().inFlight)} now ${CUT}`);
      void server.close();
    };
    const drain = async (signal: NodeJS.Signals): Promise<void> => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      const { inFlight } = server.stats();
      if (grace > 0 && inFlight > 0) {
        process.once('SIGINT', cutNow);
        process.once('SIGTERM', cutNow);
        log(
          `serve: ${signal}: draining: no new requests (503); waiting up to ${grace} s for ${requests(inFlight)} in flight ` +
            '(Ctrl-C or SIGTERM again cuts them off)',
        );
      } else log(`serve: ${signal}: stopping${inFlight ? `; ${requests(inFlight)} in flight cut off ${CUT}` : ''}`);
      const report = await server.drain(grace * 1000);
      process.off('SIGINT', cutNow);
      process.off('SIGTERM', cutNow);
      if (grace > 0 && report.waitedFor > 0) {
        if (report.ended === 'finished') log(`serve: the ${requests(report.waitedFor)} in flight finished`);
        else if (report.ended === 'grace')
          log(
            `serve: the ${grace} s grace ran out: ${report.waitedFor - report.cutOff} of ${requests(report.waitedFor)} finished, ` +
              `${report.cutOff} cut off ${CUT}`,
          );
      }
      await rollout.close();
      log('serve: stopped');
      done();
    };
    const stop = (signal: NodeJS.Signals): void => void drain(signal);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
