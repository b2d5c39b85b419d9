// `export-recipe --engine verl`: the same GRPO recipe for verl (Ray + FSDP + vLLM), for runs past one machine.
// Writes (1) the prompts as verl dataset rows (JSONL), the target range in reward_model.ground_truth; (2)
// lwz_reward.py, a stdlib-only async compute_score that posts to `lwz-train serve-rewards`; (3) run_grpo.sh,
// the verl overrides derived from the GRPO config (one source: grpo/config.ts); (4) rewards.json, the config's
// rewards block for `serve-rewards --config` (template, format gate, quality scorer, weights); (5) a README. Checked
// against verl's source (VERL_VERSIONS): its config keys, reward loop, RLHFDataset and gdpo estimator; not run here.
// `++` (add or override) for keys whose declaration differs between verl versions.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, writeJsonlPlain, writeDirAtomic } from '@lwz/core';
import { DEFAULT_LORA_TARGETS } from '@lwz/model';
import { getTemplate } from '@lwz/tokenizer';
import type { GrpoConfig } from '../grpo/config';
import type { GrpoPrompt } from '../grpo/prompts';
import { LWZ_REWARD_PY, recipeReadme } from './verl-files';

export const VERL_VERSIONS =
  'verl v0.7.1 to v0.9.0 (checked against the source of tags v0.7.1, v0.8.0, v0.9.0 and main at 1dda039b of 2026-08-22, github.com/verl-project/verl: the reward.* config layout, .jsonl datasets and the gdpo estimator all arrive in v0.7.1)';

export interface VerlRow {
  data_source: string;
  prompt: { role: 'system' | 'user'; content: string }[];
  ability: string;
  reward_model: { style: 'rule'; ground_truth: string };
  extra_info: { id: string; index: number; prompt: string; length_range: [number, number] | null; length: number | null };
}

/** One verl dataset row: chat messages under our template, the target range (or "auto") as ground truth. */
export function verlRow(p: GrpoPrompt, index: number, cfg: GrpoConfig): VerlRow {
  return {
    data_source: 'lwz-writing',
    prompt: [
      { role: 'system', content: getTemplate(cfg.template).system },
      { role: 'user', content: p.prompt },
    ],
    ability: 'writing',
    reward_model: { style: 'rule', ground_truth: p.length_range ? JSON.stringify(p.length_range) : 'auto' },
    extra_info: { id: p.id, index, prompt: p.prompt, length_range: p.length_range ?? null, length: p.length ?? null },
  };
}

/**
 * An upper bound on a row's prompt tokens under any Qwen-class BPE without the tokenizer at hand (verl tokenizes
 * with MODEL_PATH's, unknown here): a token per non-ASCII character (CJK text runs 1.3-1.5 characters a token) and
 * per 3 ASCII characters (English runs about 4), plus 32 for the chat template's markers and role names.
 */
export function promptTokenBound(row: VerlRow): number {
  let ascii = 0;
  let other = 0;
  for (const m of row.prompt)
    for (const ch of m.content) {
      if (ch.charCodeAt(0) < 128) ascii++;
      else other++;
    }
  return other + Math.ceil(ascii / 3) + 32;
}

/**
 * data.max_prompt_length: the generator's prompt budget (budget.reservedTokens, which its prompts fit), or, for
 * rows from a file, the largest row's promptTokenBound rounded up to 64 when that is more. verl drops longer rows
 * (data.filter_overlong_prompts; it counts MODEL_PATH's chat template with the generation prompt) and prints only
 * how many remain, so the bound errs long.
 */
export function maxPromptLength(cfg: GrpoConfig, rows: readonly VerlRow[]): number {
  const longest = rows.reduce((m, r) => Math.max(m, promptTokenBound(r)), 0);
  return Math.max(cfg.prompts.generator.budget.reservedTokens, Math.ceil(longest / 64) * 64);
}

/**
 * An override whose value the shell fills in (a path, a URL): in double quotes, so a space does not split it, and in
 * Hydra's single quotes, so a comma, bracket or `=` in it is not Hydra syntax.
 */
const expanded = (key: string, value: string) => `"${key}='${value}'"`;

/** The verl overrides of a GRPO config, in order (key=value, Hydra syntax); `maxPrompt`: data.max_prompt_length. */
export function verlOverrides(
  cfg: GrpoConfig,
  advantage: 'gdpo' | 'grpo',
  maxPrompt = cfg.prompts.generator.budget.reservedTokens,
): string[] {
  const w = cfg.rewards.combination.weights;
  const wsum = w.length + w.format + w.quality;
  const miniPrompts = Math.max(1, Math.floor(cfg.prompts.perStep / cfg.miniBatches));
  const kl = cfg.loss.klCoef > 0;
  const lora = cfg.model.lora;
  const gradClip = cfg.optim.gradClip > 0 ? cfg.optim.gradClip : (1e9).toFixed(1);
  if (cfg.optim.schedule !== 'constant' && cfg.optim.schedule !== 'cosine')
    throw new UserError(
      `optim.schedule "${cfg.optim.schedule}": verl has no such learning-rate schedule (it has constant and cosine); set optim.schedule to one of those`,
    );
  // verl needs a micro-batch rule for the actor, the rollout's and the reference's log-prob passes, or it stops at
  // start ("Please set at least one of ..."); ours is tokens per micro-batch (microBatchTokens), so dynamic batch
  // sizes, at least one whole sequence. The rollout's and the reference's settings follow the actor's by default.
  const tokensPerGpu = Math.max(cfg.microBatchTokens, maxPrompt + cfg.rollout.maxNewTokens);
  const out = [
    expanded('data.train_files', '$RECIPE_DIR/train.jsonl'),
    expanded('data.val_files', '$RECIPE_DIR/heldout.jsonl'),
    `data.prompt_key=prompt`,
    `data.train_batch_size=${cfg.prompts.perStep}`,
    `data.max_prompt_length=${maxPrompt}`,
    `data.max_response_length=${cfg.rollout.maxNewTokens}`,
    `data.filter_overlong_prompts=True`,
    expanded('actor_rollout_ref.model.path', '$MODEL_PATH'),
    `actor_rollout_ref.rollout.name=vllm`,
    `actor_rollout_ref.rollout.n=${cfg.rollout.n}`,
    `actor_rollout_ref.rollout.temperature=${cfg.rollout.temperature}`,
    `actor_rollout_ref.rollout.top_p=${cfg.rollout.topP}`,
    ...(lora
      ? [
          `actor_rollout_ref.model.lora_rank=${lora.rank}`,
          `actor_rollout_ref.model.lora_alpha=${lora.alpha}`,
          // our projection names are Hugging Face's module names without "_proj"
          `actor_rollout_ref.model.target_modules=[${(lora.targets ?? DEFAULT_LORA_TARGETS).map((t) => `${t}_proj`).join(',')}]`,
          `actor_rollout_ref.rollout.load_format=safetensors`,
        ]
      : []),
    `actor_rollout_ref.actor.optim.lr=${cfg.optim.lr}`,
    `actor_rollout_ref.actor.optim.lr_warmup_steps=${cfg.optim.warmupSteps}`,
    ...(cfg.optim.schedule === 'cosine'
      ? [`actor_rollout_ref.actor.optim.lr_scheduler_type=cosine`, `actor_rollout_ref.actor.optim.min_lr_ratio=${cfg.optim.minLrRatio}`]
      : []),
    `actor_rollout_ref.actor.optim.weight_decay=${cfg.optim.weightDecay}`,
    `actor_rollout_ref.actor.optim.betas=[${cfg.optim.beta1},${cfg.optim.beta2}]`,
    // ours: 0 = no clipping; verl clips to max_norm whatever it is, and 0 zeroes every gradient: a cap no norm reaches.
    // optim.clip_grad is the engine workers' (v0.8.0 on), actor.grad_clip v0.7.1's legacy FSDP actor's
    `actor_rollout_ref.actor.optim.clip_grad=${gradClip}`,
    `actor_rollout_ref.actor.grad_clip=${gradClip}`,
    `actor_rollout_ref.actor.ppo_mini_batch_size=${miniPrompts}`,
    `actor_rollout_ref.actor.use_dynamic_bsz=True`,
    `actor_rollout_ref.actor.ppo_max_token_len_per_gpu=${tokensPerGpu}`,
    `actor_rollout_ref.actor.ppo_epochs=${cfg.ppoEpochs}`,
    `actor_rollout_ref.actor.clip_ratio_low=${cfg.loss.epsLow}`,
    `actor_rollout_ref.actor.clip_ratio_high=${cfg.loss.epsHigh}`,
    // verl's dual clip is on (3) unless told; ours is off unless set: a cap no ratio reaches turns verl's off
    `actor_rollout_ref.actor.clip_ratio_c=${(cfg.loss.clipRatioC ?? 1e9).toFixed(1)}`,
    `actor_rollout_ref.actor.loss_agg_mode=${cfg.loss.aggregation}`,
    // Dr. GRPO's constant L: without it verl (core_algos.agg_loss) divides by each micro-batch's padded width.
    // Read by verl's engine workers (v0.8.0 on; also v0.7.1 with trainer.use_legacy_worker_impl=disable)
    ...(cfg.loss.aggregation === 'seq-mean-token-sum-norm' ? [`actor_rollout_ref.actor.loss_scale_factor=${cfg.loss.maxLength}`] : []),
    `actor_rollout_ref.actor.entropy_coeff=${cfg.loss.entropyCoef}`,
    `actor_rollout_ref.actor.use_kl_loss=${kl ? 'True' : 'False'}`,
    ...(kl ? [`actor_rollout_ref.actor.kl_loss_coef=${cfg.loss.klCoef}`, `actor_rollout_ref.actor.kl_loss_type=low_var_kl`] : []),
    `algorithm.use_kl_in_reward=False`,
    `algorithm.norm_adv_by_std_in_grpo=${cfg.rewards.estimator.name === 'dr-grpo' ? 'False' : 'True'}`,
    expanded('reward.custom_reward_function.path', '$RECIPE_DIR/lwz_reward.py'),
    `reward.custom_reward_function.name=compute_score`,
    expanded('++reward.custom_reward_function.reward_kwargs.url', '$LWZ_REWARD_URL'),
    `trainer.total_training_steps=${cfg.steps}`,
    `trainer.save_freq=${cfg.checkpointEvery}`,
    `trainer.experiment_name=${cfg.name}`,
  ];
  if (advantage === 'gdpo') {
    const weights = [w.length, w.format, w.quality].map((x) => +(x / wsum).toFixed(6));
    out.push(
      `algorithm.adv_estimator=gdpo`,
      `++algorithm.gdpo_reward_keys='["length","format","quality"]'`,
      `++algorithm.gdpo_reward_weights='${JSON.stringify(weights)}'`,
      `reward.reward_manager.name=gdpo`,
      // verl v0.9.0 runs its V1 trainer unless told (trainer.use_v1=true), whose advantage step reads only uid, masks,
      // scores and log-probs back (v1/trainer_base.py _compute_advantage): gdpo then finds neither its reward keys nor
      // batch["prompts"] and stops. The legacy trainer passes both; `++` as the key is absent before v0.9.0.
      `++trainer.use_v1=False`,
    );
  } else out.push(`algorithm.adv_estimator=grpo`);
  return out;
}

function runScript(cfg: GrpoConfig, source: string, maxPrompt: number): string {
  const block = (adv: 'gdpo' | 'grpo') =>
    verlOverrides(cfg, adv, maxPrompt)
      .map((o) => `    ${o} \\`)
      .join('\n');
  return `#!/usr/bin/env bash
# GRPO for LongWriter-Zero on verl, exported by \`lwz-train export-recipe --engine verl ${source}\`.
# Follows ${VERL_VERSIONS}; not run by us (no GPU here). Needs: MODEL_PATH (a Hugging Face checkpoint),
# LWZ_REWARD_URL (a running \`lwz-train serve-rewards\`, default http://127.0.0.1:8400). ADV=gdpo (default: the
# three rewards z-scored per group and weighted, then verl's batch whitening) or ADV=grpo (the combined score).
set -euo pipefail
RECIPE_DIR="$(cd "$(dirname "$0")" && pwd)"
: "\${MODEL_PATH:?set MODEL_PATH to a Hugging Face checkpoint directory}"
LWZ_REWARD_URL="\${LWZ_REWARD_URL:-http://127.0.0.1:8400}"
ADV="\${ADV:-gdpo}"
export LWZ_REWARD_URL
if [ "$ADV" = gdpo ]; then
  python3 -m verl.trainer.main_ppo \\
${block('gdpo')}
    "$@"
elif [ "$ADV" = grpo ]; then
  python3 -m verl.trainer.main_ppo \\
${block('grpo')}
    "$@"
else
  echo "ADV must be gdpo or grpo, got $ADV" >&2
  exit 2
fi
`;
}

export interface VerlRecipe {
  dir: string;
  files: string[];
  rows: number;
}

/** The files a recipe directory holds; an existing --out holding anything else is refused (writeDirAtomic). */
export const RECIPE_FILES = ['train.jsonl', 'heldout.jsonl', 'lwz_reward.py', 'run_grpo.sh', 'rewards.json', 'README.md'] as const;

export function writeVerlRecipe(
  cfg: GrpoConfig,
  /** the flag the recipe came from, as the files name it: `--preset NAME` or `--config FILE` */
  source: string,
  train: readonly GrpoPrompt[],
  heldout: readonly GrpoPrompt[],
  dir: string,
): VerlRecipe {
  const trainRows = train.map((p, i) => verlRow(p, i, cfg));
  const heldoutRows = heldout.map((p, i) => verlRow(p, i, cfg));
  const maxPrompt = maxPromptLength(cfg, [...trainRows, ...heldoutRows]);
  // the six files are one recipe: written together into a fresh directory that replaces --out whole
  writeDirAtomic(
    dir,
    (tmp) => {
      writeJsonlPlain(join(tmp, 'train.jsonl'), trainRows);
      writeJsonlPlain(join(tmp, 'heldout.jsonl'), heldoutRows);
      writeFileSync(join(tmp, 'lwz_reward.py'), LWZ_REWARD_PY);
      writeFileSync(join(tmp, 'run_grpo.sh'), runScript(cfg, source, maxPrompt));
      chmodSync(join(tmp, 'run_grpo.sh'), 0o755);
      // serve-rewards without it scores with the defaults (think template, no gate, constant quality, 1:1:1)
      writeFileSync(join(tmp, 'rewards.json'), `${JSON.stringify(cfg.rewards, null, 2)}\n`);
      writeFileSync(join(tmp, 'README.md'), recipeReadme(cfg, source, VERL_VERSIONS, maxPrompt));
    },
    (name) => (RECIPE_FILES as readonly string[]).includes(name),
  );
  return { dir, files: [...RECIPE_FILES], rows: train.length };
}
