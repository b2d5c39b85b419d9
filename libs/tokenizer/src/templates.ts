// Prompt templates for writing tasks: `think` asks the model to plan inside <think> </think> and then write
// the final text inside <answer> </answer>; `direct` asks for the <answer> block only. Each declares its stop
// strings. Rendered as ChatML turns, or through a checkpoint's own chat template (tokenizer_config.json) with
// @huggingface/jinja. The wording is our own. Parsing completions lives in completion-parser.ts.
import { Template } from '@huggingface/jinja';
import { UserError } from '@lwz/core';
import { ANSWER_CLOSE, TURN_END, TURN_START } from './special-tokens';
import type { Tokenizer } from './tokenizer';

export type TemplateName = 'think' | 'direct';
export const TEMPLATE_NAMES: readonly TemplateName[] = ['think', 'direct'];

export interface PromptTemplate {
  name: TemplateName;
  /** The system turn that states the required output format. */
  system: string;
  /** Generation stops at the first of these (kept in the completion so the parser can check structure). */
  stopStrings: readonly string[];
}

const THINK_SYSTEM =
  'You are a writer who plans before writing. First work out your plan inside <think> </think>: the points ' +
  'to cover, the order of the sections, and roughly how many words each section needs to meet any length ' +
  'requested. Then write the finished piece, and only the finished piece, inside <answer> </answer>. ' +
  'Write nothing after </answer>.';

const DIRECT_SYSTEM =
  'You are a writer. Write the finished piece, and only the finished piece, inside <answer> </answer>, ' +
  'meeting any length requested. Write nothing after </answer>.';

export const THINK_TEMPLATE: PromptTemplate = { name: 'think', system: THINK_SYSTEM, stopStrings: [ANSWER_CLOSE, TURN_END] };
export const DIRECT_TEMPLATE: PromptTemplate = { name: 'direct', system: DIRECT_SYSTEM, stopStrings: [ANSWER_CLOSE, TURN_END] };

export function getTemplate(name: string): PromptTemplate {
  if (name === 'think') return THINK_TEMPLATE;
  if (name === 'direct') return DIRECT_TEMPLATE;
  throw new UserError(`unknown template ${JSON.stringify(name)} (valid: ${TEMPLATE_NAMES.join(', ')})`);
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn (what generation continues from). Default true. */
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
}

/** Render a Hugging Face chat template (Jinja) the way transformers' apply_chat_template does. */
export function renderChatTemplate(template: string, messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
  let compiled: Template;
  try {
    // strftime_now is a global of @huggingface/jinja (its locale's months) that render() cannot replace: ours is called instead
    compiled = new Template(template.replace(/\bstrftime_now\s*\(/g, 'lwz_strftime_now('));
  } catch (e) {
    throw new UserError(`chat template (tokenizer_config.json chat_template) does not parse: ${(e as Error).message}`);
  }
  return compiled.render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? true,
    bos_token: options.bosToken ?? '',
    eos_token: options.eosToken ?? '',
    lwz_strftime_now: strftimeNow,
  });
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Python's `datetime.now().strftime` in the C locale, which transformers' templates get (Llama 3.2's "Today
 * Date: 01 Sep 2026"): @huggingface/jinja's own follows the process locale ("01 Sept 2026" in en-GB, "Mär" in
 * de-DE), so the same prompt would encode differently from one machine to the next.
 */
export function strftimeNow(format: string, now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const codes: Record<string, () => string> = {
    Y: () => String(now.getFullYear()),
    m: () => pad(now.getMonth() + 1),
    d: () => pad(now.getDate()),
    B: () => MONTHS[now.getMonth()],
    b: () => MONTHS[now.getMonth()].slice(0, 3),
    H: () => pad(now.getHours()),
    M: () => pad(now.getMinutes()),
    S: () => pad(now.getSeconds()),
    '%': () => '%',
  };
  return format.replace(/%([YmdBbHMS%])/g, (_, c: string) => codes[c]());
}

/** Our ChatML rendering, used when a checkpoint has no chat template of its own. */
export function renderChatML(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
  const turns = messages.map((m) => `${TURN_START}${m.role}\n${m.content}${TURN_END}\n`).join('');
  return addGenerationPrompt ? `${turns}${TURN_START}assistant\n` : turns;
}

export interface RenderedPrompt {
  text: string;
  stopStrings: string[];
  /**
   * The part of the assistant turn the chat template already wrote: an opened `<think>` and the whitespace after
   * it when the generation prompt ends so (DeepSeek-R1 distills, QwQ), else ''. The completion continues it, so
   * the response to parse is `prefill + completion`.
   */
  prefill: string;
}

/** The opened `<think>` (and whitespace after it) that ends `text`, or '' when it does not end with one. */
export function openedThink(text: string): string {
  return /<think>\s*$/.exec(text)?.[0] ?? '';
}

/**
 * The system and user turns through a checkpoint's template. A template without a system role either raises
 * (Gemma: "System role not supported") or drops the turn (some Mistral revisions): then the system text goes at
 * the head of the user turn, as users of those models do, so the format instruction is never lost.
 */
function renderWithSystem(chatTemplate: string, system: string, userPrompt: string, chat: ChatTemplateOptions): string {
  let first: Error | undefined;
  try {
    const text = renderChatTemplate(
      chatTemplate,
      [
        { role: 'system', content: system },
        { role: 'user', content: userPrompt },
      ],
      chat,
    );
    if (text.includes(system)) return text;
  } catch (e) {
    if (!(e instanceof Error) || e instanceof UserError) throw e;
    first = e;
  }
  try {
    return renderChatTemplate(chatTemplate, [{ role: 'user', content: `${system}\n\n${userPrompt}` }], chat);
  } catch (e) {
    const why = (first ?? (e as Error)).message;
    throw new UserError(`the checkpoint's chat template (tokenizer_config.json or chat_template.jinja) raised: ${why}`);
  }
}

/**
 * The prompt text for one writing task under a template; with `chatTemplate` (a checkpoint's own) the turns are
 * rendered by it and its eos token joins the stop strings.
 */
export function renderPrompt(
  template: PromptTemplate,
  userPrompt: string,
  chat?: ChatTemplateOptions & { chatTemplate?: string },
): RenderedPrompt {
  const messages: ChatMessage[] = [
    { role: 'system', content: template.system },
    { role: 'user', content: userPrompt },
  ];
  if (chat?.chatTemplate) {
    const text = renderWithSystem(chat.chatTemplate, template.system, userPrompt, chat);
    const stops = new Set([...template.stopStrings, ...(chat.eosToken ? [chat.eosToken] : [])]);
    return { text, stopStrings: [...stops], prefill: openedThink(text) };
  }
  return { text: renderChatML(messages), stopStrings: [...template.stopStrings], prefill: '' };
}

/**
 * renderPrompt with the tokenizer's own chat template, bos and eos when its tokenizer_config.json has a
 * chat_template, else ChatML. Encode the text with `{ addSpecialTokens: false }`: the template already holds
 * any BOS it wants (transformers' apply_chat_template does the same).
 */
export function renderPromptFor(tokenizer: Tokenizer, template: PromptTemplate, userPrompt: string): RenderedPrompt {
  const { chatTemplate, bosToken, eosToken } = tokenizer.config;
  return renderPrompt(template, userPrompt, chatTemplate ? { chatTemplate, bosToken, eosToken } : undefined);
}
