// `lwz-train serve-rewards [--config F] [--set key=value ...] [--port P] [--host H]`: our three rewards over
// HTTP for an RL engine that runs elsewhere (verl's custom reward function posts here: see export-recipe).
// The config is the rewards config score-rewards takes (quality scorer, length rule, repetition, weights).
import type { Command } from 'commander';
import { parseConfig, parseOverrides, readConfigFile, z } from '@lwz/core';
import '@lwz/judges'; // registers the "chat-judge" quality scorer
import { mergeRewardsConfig, parseRewardsConfig, type RewardsConfig } from '@lwz/rewards';
import { startRewardServer, type RunningRewardServer } from '../serve-rewards/server';

const OptionsSchema = z.object({
  config: z.string().optional(),
  set: z.array(z.string()).default([]),
  port: z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must be 0 to 65535 (0: any free port)')
    .max(65535, 'must be 0 to 65535 (0: any free port)')
    .default(8400),
  host: z.string().min(1).default('127.0.0.1'),
  maxBodyMb: z.coerce.number().positive().default(8),
});
export type ServeRewardsOptions = z.input<typeof OptionsSchema>;

/** What the service scores with, in one line for its console: a forgotten --config shows as defaults and a constant quality. */
export function rewardsSummary(config: RewardsConfig, source: string): string {
  const q = config.quality;
  const constant = q.scorer === 'constant' ? ` (every answer ${String(q.options.value ?? 0.5)}: quality gives no signal)` : '';
  const w = config.combination.weights;
  return `rewards from ${source}: template ${config.template}, format gate ${config.formatGate ? 'on' : 'off'}, quality scorer ${q.scorer}${constant}, weights length ${w.length} format ${w.format} quality ${w.quality}`;
}

export async function run(input: ServeRewardsOptions): Promise<RunningRewardServer & { summary: string }> {
  const o = parseConfig(OptionsSchema, input, 'lwz-train serve-rewards options', { flags: true });
  const raw = mergeRewardsConfig(o.config ? readConfigFile(o.config) : {}, parseOverrides(o.set));
  const source = `${o.config ?? 'defaults (no --config)'}${o.set.length ? ' + --set' : ''}`;
  const config = parseRewardsConfig(raw, source);
  const server = await startRewardServer(config, { port: o.port, host: o.host, maxBodyBytes: Math.round(o.maxBodyMb * 2 ** 20) });
  return { ...server, summary: rewardsSummary(config, source) };
}

export function register(program: Command): void {
  program
    .command('serve-rewards')
    .summary('HTTP scoring of {prompt, response, length_range?} items: length, format and quality rewards and the combined score')
    .description(
      'HTTP scoring of {prompt, response, length_range?, length?} items: length, format and quality rewards and the combined score.\n' +
        'POST /v1/rewards with one item or {"items": [...]}; GET /health. A verl recipe (export-recipe) starts it with --config DIR/rewards.json.',
    )
    .option('--config <file>', 'rewards config JSON (as for score-rewards); without it the defaults, whose quality is a constant 0.5')
    .option('--set <key=value...>', 'config overrides, e.g. --set quality.scorer=chat-judge', [])
    .option('--port <p>', 'port (0 = any free port)', '8400')
    .option('--host <h>', 'interface to listen on (0.0.0.0: every interface, for RL workers on other machines)', '127.0.0.1')
    .option('--max-body-mb <n>', 'largest request body in MiB', '8')
    .action(async (o: ServeRewardsOptions) => {
      const server = await run(o);
      console.error(`serve-rewards: ${server.summary}`);
      console.error(`serve-rewards: POST ${server.url}/v1/rewards, GET ${server.url}/health (Ctrl-C stops)`);
      await new Promise<void>((done) => {
        const stop = (): void => void server.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
