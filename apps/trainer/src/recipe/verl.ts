// `export-recipe --engine verl`: the same GRPO recipe for verl (Ray + FSDP + vLLM), for runs past one machine.
// Writes (1) the prompts as verl dataset rows (JSONL), the target range in reward_model.ground_truth; (2)
// lwz_reward.py, a stdlib-only async compute_score that posts to `lwz-train serve-rewards`; (3) run_grpo.sh,
// the verl overrides derived from the GRPO config (one source: grpo/config.ts); (4) a README. Followed:
// verl's reward.* config layout (after v0.7.0), JSONL datasets, the gdpo estimator; not run here (no GPU).
// `++` (add or override) for keys whose declaration differs between verl versions.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonl } from '@lwz/core';
import { getTemplate } from '@lwz/tokenizer';
import type { GrpoConfig } from '../grpo/config';
import type { GrpoPrompt } from '../grpo/prompts';
import { LWZ_REWARD_PY, recipeReadme } from './verl-files';

export const VERL_VERSIONS =
  'verl releases with the reward.* config layout (after v0.7.0, which still has custom_reward_function.* at the top level and no .jsonl datasets) and, for ADV=gdpo, the gdpo estimator (docs/algo/gdpo.md; not checked against a release tag)';

export interface VerlRow {
  data_source: string;
  prompt: { role: 'system' | 'user'; content: string }[];
  ability: string;
  reward_model: { style: 'rule'; ground_truth: string };
  extra_info: { id: string; index: number; prompt: string; length_range: [number, number] | null };
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
    extra_info: { id: p.id, index, prompt: p.prompt, length_range: p.length_range ?? null },
  };
}

/** The verl overrides of a GRPO config, in order (key=value, Hydra syntax). */
export function verlOverrides(cfg: GrpoConfig, advantage: 'gdpo' | 'grpo'): string[] {
  const w = cfg.rewards.combination.weights;
  const wsum = w.length + w.format + w.quality;
  const miniPrompts = Math.max(1, Math.floor(cfg.prompts.perStep / cfg.miniBatches));
  const kl = cfg.loss.klCoef > 0;
  const out = [
    `data.train_files=$RECIPE_DIR/train.jsonl`,
    `data.val_files=$RECIPE_DIR/heldout.jsonl`,
    `data.prompt_key=prompt`,
    `data.train_batch_size=${cfg.prompts.perStep}`,
    `data.max_prompt_length=${cfg.prompts.generator.budget.reservedTokens}`,
    `data.max_response_length=${cfg.rollout.maxNewTokens}`,
    `data.filter_overlong_prompts=True`,
    `actor_rollout_ref.model.path=$MODEL_PATH`,
    `actor_rollout_ref.rollout.name=vllm`,
    `actor_rollout_ref.rollout.n=${cfg.rollout.n}`,
    `actor_rollout_ref.rollout.temperature=${cfg.rollout.temperature}`,
    `actor_rollout_ref.rollout.top_p=${cfg.rollout.topP}`,
    `actor_rollout_ref.actor.optim.lr=${cfg.optim.lr}`,
    `actor_rollout_ref.actor.optim.weight_decay=${cfg.optim.weightDecay}`,
    `actor_rollout_ref.actor.grad_clip=${cfg.optim.gradClip}`,
    `actor_rollout_ref.actor.ppo_mini_batch_size=${miniPrompts}`,
    `actor_rollout_ref.actor.ppo_epochs=${cfg.ppoEpochs}`,
    `actor_rollout_ref.actor.clip_ratio_low=${cfg.loss.epsLow}`,
    `actor_rollout_ref.actor.clip_ratio_high=${cfg.loss.epsHigh}`,
    `actor_rollout_ref.actor.loss_agg_mode=${cfg.loss.aggregation}`,
    `actor_rollout_ref.actor.entropy_coeff=${cfg.loss.entropyCoef}`,
    `actor_rollout_ref.actor.use_kl_loss=${kl ? 'True' : 'False'}`,
    ...(kl ? [`actor_rollout_ref.actor.kl_loss_coef=${cfg.loss.klCoef}`, `actor_rollout_ref.actor.kl_loss_type=low_var_kl`] : []),
    `algorithm.use_kl_in_reward=False`,
    `algorithm.norm_adv_by_std_in_grpo=${cfg.rewards.estimator.name === 'dr-grpo' ? 'False' : 'True'}`,
    `reward.custom_reward_function.path=$RECIPE_DIR/lwz_reward.py`,
    `reward.custom_reward_function.name=compute_score`,
    `++reward.custom_reward_function.reward_kwargs.url=$LWZ_REWARD_URL`,
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
    );
  } else out.push(`algorithm.adv_estimator=grpo`);
  return out;
}

function runScript(cfg: GrpoConfig, preset: string): string {
  const block = (adv: 'gdpo' | 'grpo') =>
    verlOverrides(cfg, adv)
      .map((o) => `    ${o} \\`)
      .join('\n');
  return `#!/usr/bin/env bash
# GRPO for LongWriter-Zero on verl, exported by \`lwz-train export-recipe --engine verl --preset ${preset}\`.
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

export function writeVerlRecipe(
  cfg: GrpoConfig,
  preset: string,
  train: readonly GrpoPrompt[],
  heldout: readonly GrpoPrompt[],
  dir: string,
): VerlRecipe {
  writeJsonl(
    join(dir, 'train.jsonl'),
    train.map((p, i) => verlRow(p, i, cfg)),
  );
  writeJsonl(
    join(dir, 'heldout.jsonl'),
    heldout.map((p, i) => verlRow(p, i, cfg)),
  );
  writeFileAtomic(join(dir, 'lwz_reward.py'), LWZ_REWARD_PY);
  writeFileAtomic(join(dir, 'run_grpo.sh'), runScript(cfg, preset));
  chmodSync(join(dir, 'run_grpo.sh'), 0o755);
  writeFileAtomic(join(dir, 'README.md'), recipeReadme(cfg, preset, VERL_VERSIONS));
  return { dir, files: ['train.jsonl', 'heldout.jsonl', 'lwz_reward.py', 'run_grpo.sh', 'README.md'], rows: train.length };
}
