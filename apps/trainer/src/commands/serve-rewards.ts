// `lwz-train serve-rewards [--config F] [--set key=value ...] [--port P] [--host H]`: our three rewards over
// HTTP for an RL engine that runs elsewhere (verl's custom reward function posts here: see export-recipe).
// The config is the rewards config score-rewards takes (quality scorer, length rule, repetition, weights).
import type { Command } from 'commander';
import { parseConfig, parseOverrides, readConfigFile, z } from '@lwz/core';
import '@lwz/judges'; // registers the "chat-judge" quality scorer
import { mergeRewardsConfig, parseRewardsConfig } from '@lwz/rewards';
import { startRewardServer, type RunningRewardServer } from '../serve-rewards/server';

const OptionsSchema = z.object({
  config: z.string().optional(),
  set: z.array(z.string()).default([]),
  port: z.coerce.number().int().min(0).max(65535).default(8400),
  host: z.string().min(1).default('127.0.0.1'),
  maxBodyMb: z.coerce.number().positive().default(8),
});
export type ServeRewardsOptions = z.input<typeof OptionsSchema>;

export async function run(input: ServeRewardsOptions): Promise<RunningRewardServer> {
  const o = parseConfig(OptionsSchema, input, 'lwz-train serve-rewards options', { flags: true });
  const raw = mergeRewardsConfig(o.config ? readConfigFile(o.config) : {}, parseOverrides(o.set));
  const config = parseRewardsConfig(raw, `${o.config ?? 'defaults'}${o.set.length ? ' + --set' : ''}`);
  return startRewardServer(config, { port: o.port, host: o.host, maxBodyBytes: Math.round(o.maxBodyMb * 2 ** 20) });
}

export function register(program: Command): void {
  program
    .command('serve-rewards')
    .description('HTTP scoring of {prompt, response, length_range?} items: length, format and quality rewards and the combined score')
    .option('--config <file>', 'rewards config JSON (as for score-rewards)')
    .option('--set <key=value...>', 'config overrides, e.g. --set quality.scorer=chat-judge', [])
    .option('--port <p>', 'port (0 = any free port)', '8400')
    .option('--host <h>', 'interface to listen on', '127.0.0.1')
    .option('--max-body-mb <n>', 'largest request body in MiB', '8')
    .action(async (o: ServeRewardsOptions) => {
      const server = await run(o);
      console.error(`serve-rewards: POST ${server.url}/v1/rewards, GET ${server.url}/health (Ctrl-C stops)`);
      await new Promise<void>((done) => {
        const stop = (): void => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
