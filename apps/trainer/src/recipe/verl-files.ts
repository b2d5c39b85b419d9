// The fixed texts of the verl recipe: lwz_reward.py (verl's custom reward function, stdlib only: it posts
// each answer to `lwz-train serve-rewards` and returns the combined score plus each reward as extra info)
// and the recipe README. The numbers come from the GRPO config (recipe/verl.ts); nothing here repeats them.
import type { GrpoConfig } from '../grpo/config';

export const LWZ_REWARD_PY = `"""LongWriter-Zero rewards for verl: posts each answer to \`lwz-train serve-rewards\`.

verl calls compute_score(data_source, solution_str, ground_truth, extra_info) once per answer as rollouts
finish; this async version runs the blocking HTTP call in a thread. Returns {"score", "length", "format",
"quality"}: score is the weighted mean of the three rewards (what ADV=grpo normalises); the three keys are
what the gdpo estimator normalises per reward. Standard library only.
"""
import asyncio
import http.client
import json
import math
import numbers
import os
import random
import re
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8400"


class RewardServiceError(RuntimeError):
    pass


def _retries():
    value = os.environ.get("LWZ_REWARD_RETRIES", "11")
    if not value.strip().isdigit():
        raise ValueError(f"LWZ_REWARD_RETRIES must be a whole number of retries (default 11), got {value!r}")
    return int(value)


# a restarted or briefly overloaded serve-rewards must not end a verl run: connection errors, 429 and 5xx are
# retried with exponential backoff (11 retries: 0.5 s doubling to 60 s, about 5 minutes in all); a 4xx names what was wrong with the item and is not,
# nor a 500 that serve-rewards marks "retryable": false (its judge refused the key or the model: only mending its config helps)
RETRIES = _retries()


def _shown(url):
    return re.sub("//[^/@]*@", "//***@", url)


def _target(ground_truth):
    """The word range [lo, hi] of verl's ground_truth ("[lo, hi]" or a pair); None for "auto": serve-rewards resolves it."""
    if ground_truth is None or (isinstance(ground_truth, str) and ground_truth.strip() in ("", "auto")):
        return None
    try:
        value = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
        lo, hi = value
        if not all(isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) for x in (lo, hi)):
            raise ValueError
    except (ValueError, TypeError):
        raise ValueError(f'ground_truth: expected "auto" or a word range "[lo, hi]" (two numbers), got {ground_truth!r}') from None
    if lo < 0 or hi < lo:
        raise ValueError(f"ground_truth: the word range [lo, hi] must have 0 <= lo <= hi, got {ground_truth!r}")
    return [int(x) if float(x).is_integer() else float(x) for x in (lo, hi)]


def _final(body):
    """serve-rewards marks a failure every retry would meet alike (its judge refusing the key or the model): stop at once."""
    try:
        return json.loads(body)["error"]["retryable"] is False
    except (ValueError, TypeError, KeyError):
        return False


def _post(url, body, timeout):
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"}, method="POST")
    shown = _shown(url)
    start = time.monotonic()
    for attempt in range(RETRIES + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                text = reply.read()
            break
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            detail = body[:2000]
            if (e.code == 429 or e.code >= 500) and attempt < RETRIES and not _final(body):
                pass
            else:
                raise RewardServiceError(f"{shown}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as e:
            # HTTPException: a reply cut short (IncompleteRead) or garbled, as from a service stopped mid-answer
            if attempt >= RETRIES:
                why = f"no reply within {timeout} s" if isinstance(e, TimeoutError) else getattr(e, "reason", e) or type(e).__name__
                raise RewardServiceError(f"{shown}: {why} after {RETRIES + 1} tries over {time.monotonic() - start:.0f} s; is serve-rewards running there?") from None
        time.sleep(min(60.0, 0.5 * 2**attempt) * (0.5 + random.random()))
    else:
        raise AssertionError("unreachable")
    try:
        result = json.loads(text.decode("utf-8"))
        rewards = result["rewards"]
        return {key: float(value) for key, value in (("score", result["score"]), *((k, rewards[k]) for k in ("length", "format", "quality")))}
    except (ValueError, TypeError, KeyError):
        raise RewardServiceError(
            f"{shown}: the reply is not serve-rewards' {{score, rewards}}: {text[:300]!r}; does LWZ_REWARD_URL point at lwz-train serve-rewards?"
        ) from None


def score_sync(prompt, response, ground_truth=None, url=None, timeout=300, length=None):
    item = {"prompt": prompt, "response": response}
    target = _target(ground_truth)
    if target is not None:
        item["length_range"] = target
    if length:
        item["length"] = length
    base = (url or os.environ.get("LWZ_REWARD_URL") or DEFAULT_URL).strip().rstrip("/")
    if not re.match("https?://[^/]", base):
        raise RewardServiceError(f"the reward service URL (url= or LWZ_REWARD_URL) must be http://HOST:PORT, e.g. {DEFAULT_URL}; got {_shown(base)!r}")
    return _post(base + "/v1/rewards", json.dumps(item).encode("utf-8"), timeout)


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=None, **kwargs):
    info = extra_info or {}
    return await asyncio.to_thread(score_sync, info.get("prompt", ""), solution_str, ground_truth, url, 300, info.get("length"))
`;

/** Where the preset's quality scorer reads its model, when it reads one (a path relative to where serve-rewards runs). */
function qualityNote(cfg: GrpoConfig): string {
  const checkpoint = cfg.rewards.quality.options.checkpoint;
  if (typeof checkpoint !== 'string') return '';
  return ` Its quality scorer reads \`${checkpoint}\` (relative to where serve-rewards runs)${checkpoint.startsWith('runs/rm-tiny') ? ', which `npx nx run trainer:train-rm` writes' : ''}.`;
}

export function recipeReadme(cfg: GrpoConfig, source: string, versions: string, maxPrompt: number): string {
  const w = cfg.rewards.combination.weights;
  const lora = cfg.model.lora;
  return `# LongWriter-Zero on verl: \`${source}\`

Exported by \`npx lwz-train export-recipe --engine verl ${source}\`. The rewards, the data and the
evaluation stay ours; verl (Ray + FSDP + vLLM) runs generation and the policy update on many GPUs.
The files follow ${versions}. **verl cannot be installed on our development machines (no GPU), so these
files have not been run on verl by us**: the dataset rows are checked against verl's schema and
\`lwz_reward.py\` is tested against a running \`serve-rewards\`.

| file | what it is |
|---|---|
| \`train.jsonl\`, \`heldout.jsonl\` | prompts as verl rows \`{data_source, prompt: [chat messages], ability, reward_model: {style, ground_truth}, extra_info}\`; \`ground_truth\` is the target range \`[lo, hi]\` in words, or \`auto\` (serve-rewards then resolves it from the wording) |
| \`lwz_reward.py\` | verl's custom reward function (async \`compute_score\`), standard library only |
| \`rewards.json\` | the rewards config for \`serve-rewards --config\`: this preset's template, format gate, length rule, quality scorer and weights |
| \`run_grpo.sh\` | \`python3 -m verl.trainer.main_ppo\` with this preset's numbers (G = ${cfg.rollout.n}, temperature ${cfg.rollout.temperature}, max response ${cfg.rollout.maxNewTokens} tokens, clip ${cfg.loss.epsLow}/${cfg.loss.epsHigh}, ${cfg.loss.aggregation}, lr ${cfg.optim.lr}, KL ${cfg.loss.klCoef > 0 ? cfg.loss.klCoef : 'off'}${lora ? `, LoRA rank ${lora.rank} alpha ${lora.alpha}` : ''}) |

## Run

1. Start the reward service with this recipe's rewards, from the repository root on a machine the verl workers
   reach (it listens on 127.0.0.1 unless told: \`--host 0.0.0.0\` for workers elsewhere):
   \`npx lwz-train serve-rewards --config DIR/rewards.json --port 8400\`. \`rewards.json\` is this preset's
   rewards (template ${cfg.rewards.template}, format gate ${cfg.rewards.formatGate ? 'on' : 'off'}, quality scorer
   ${cfg.rewards.quality.scorer}, the weights below); without \`--config\` serve-rewards scores with its own defaults
   (think template, no gate, a constant quality of 0.5, equal weights) whatever this recipe says.${qualityNote(cfg)} For a
   judge-scored quality reward: \`--set quality.scorer=chat-judge\` plus its options in the config; the key comes
   from an environment variable.
2. \`MODEL_PATH=/path/to/hf/checkpoint LWZ_REWARD_URL=http://HOST:8400 bash run_grpo.sh trainer.n_gpus_per_node=8 trainer.nnodes=1\`
   (extra arguments are more verl overrides).
3. Bring the checkpoints back: convert verl's actor checkpoint to Hugging Face format with verl's model merger,
   \`python3 -m verl.model_merger merge --backend fsdp --local_dir checkpoints/verl_examples/${cfg.name}/global_step_N/actor --target_dir DIR\`
   (verl's default trainer.default_local_dir), then \`npx lwz-train sample --checkpoint DIR --prompts heldout.jsonl --out samples.jsonl\` and
   \`npx lwz-arena longbench-write --responses samples.jsonl --out eval/\`.

Prompts: \`data.max_prompt_length=${maxPrompt}\` holds every row in the two files by a bound that needs no
tokenizer (a token per non-ASCII character and per 3 ASCII ones, plus 32 for the chat markers). verl drops rows
longer than that under MODEL_PATH's chat template (\`data.filter_overlong_prompts=True\`), printing only how many
remain (\`filter dataset len: N\`), so pass a larger value if you add rows.
\`lwz_reward.py\` retries connection errors, replies cut short, 429 and 5xx with backoff (\`LWZ_REWARD_RETRIES\`, default 11, about
5 minutes), and stops the run with serve-rewards' own message on any other error, and at once on a 500 that serve-rewards
marks not retryable (its judge refused the key or the model name: mend \`rewards.json\` and restart the service).

## Advantage: how close to the paper

The paper z-scores each reward within its prompt group and averages the three advantages
(weights here: length ${w.length}, format ${w.format}, quality ${w.quality}).
- \`ADV=gdpo\` (default): verl's gdpo estimator z-scores each of the keys \`length\`, \`format\`, \`quality\` that
  \`compute_score\` returns within the group and takes the weighted sum (weights normalised to sum 1), then
  whitens the advantages over the batch's tokens, which the paper does not do. Closest built-in.
- \`ADV=grpo\`: plain GRPO on the combined score (the weighted mean of the rewards): z-scoring a sum is not
  the sum of z-scores, so a reward with a large spread dominates.
verl v0.9.0 runs its V1 trainer by default, which does not hand the gdpo estimator the per-reward keys (the
  run stops at the first advantage step), so \`ADV=gdpo\` sets \`++trainer.use_v1=False\`: verl's legacy trainer,
  deprecated in v0.9.0 but still there; the key is absent and unused before v0.9.0. In a verl without the legacy
  trainer, use \`ADV=grpo\`.

## Pitfalls

- verl's reward managers decode each answer into \`solution_str\` with \`skip_special_tokens=True\`, fixed in their
  code. If your tokenizer marks \`<think>\`, \`</think>\`, \`<answer>\`, \`</answer>\` as special, they arrive stripped
  and the format reward is 0 for every answer: keep them as normal added tokens (\`"special": false\`).
- verl v0.7.0 and older read \`custom_reward_function.*\` at the top level, the reward manager from
  \`reward_model.reward_manager\`, no \`.jsonl\` datasets and have no gdpo: there use \`ADV=grpo\` and rename the keys
  and the files (JSON Lines load as \`.json\` there).
`;
}
