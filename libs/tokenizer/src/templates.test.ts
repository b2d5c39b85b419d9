// Templates render ChatML (or a checkpoint's Jinja chat template) with their stop strings; the parser splits
// completions and flags each structural violation it is meant to catch.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCompletion } from './completion-parser';
import { DIRECT_TEMPLATE, THINK_TEMPLATE, getTemplate, renderChatTemplate, renderPrompt, renderPromptFor, strftimeNow } from './templates';
import { realTokenizerFile } from './testing/real-tokenizers';
import { Tokenizer } from './tokenizer';
import { parseTokenizerConfig } from './tokenizer-config';

describe('prompt templates', () => {
  it('render ChatML turns ending in an open assistant turn, with </answer> and the turn end as stops', () => {
    const { text, stopStrings } = renderPrompt(THINK_TEMPLATE, 'Write a 500-word story.');
    expect(text.startsWith('<|im_start|>system\n')).toBe(true);
    expect(text).toContain('<think> </think>');
    expect(text.endsWith('<|im_start|>user\nWrite a 500-word story.<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
    expect(stopStrings).toEqual(['</answer>', '<|im_end|>']);
    expect(DIRECT_TEMPLATE.system).not.toContain('<think>');
    expect(() => getTemplate('cot')).toThrow(/valid: think, direct/);
  });

  it('encode turn markers and tags as single Qwen3 tokens', () => {
    const qwen = Tokenizer.fromFile(realTokenizerFile('qwen3'));
    const ids = qwen.encode(renderPrompt(THINK_TEMPLATE, 'hi').text);
    expect(ids[0]).toBe(qwen.tokenToId('<|im_start|>'));
    expect(ids.filter((id) => id === qwen.tokenToId('<|im_end|>')).length).toBe(2);
  });

  it("render Qwen3's own chat template with @huggingface/jinja", () => {
    const config = JSON.parse(readFileSync(realTokenizerFile('qwen3').replace(/tokenizer\.json$/, 'tokenizer_config.json'), 'utf8'));
    const text = renderChatTemplate(config.chat_template, [{ role: 'user', content: 'Hello' }]);
    expect(text).toBe('<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n');
    const withEos = renderPrompt(DIRECT_TEMPLATE, 'x', { chatTemplate: config.chat_template, eosToken: '<|im_end|>' });
    expect(withEos.stopStrings).toEqual(['</answer>', '<|im_end|>']);
  });
});

describe('renderPromptFor', () => {
  it("uses Llama-3's chat template with its bos token and adds its eos as a stop", () => {
    const llama = Tokenizer.fromFile(realTokenizerFile('llama3'));
    const { text, stopStrings } = renderPromptFor(llama, DIRECT_TEMPLATE, 'Write.');
    expect(text.startsWith('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n')).toBe(true);
    expect(text.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n')).toBe(true);
    expect(stopStrings).toEqual(['</answer>', '<|im_end|>', '<|end_of_text|>']);
    expect(llama.encode(text, { addSpecialTokens: false })[0]).toBe(128000);
  });
});

describe('parseCompletion', () => {
  it('splits a well-formed think completion', () => {
    const p = parseCompletion('<think>\nplan: 3 parts\n</think>\n<answer>\nThe story.\n</answer><|im_end|>', 'think');
    expect(p).toEqual({ think: 'plan: 3 parts', answer: 'The story.', trailing: '', violations: [], codes: [], valid: true });
  });

  it('accepts a direct completion and rejects think blocks there', () => {
    expect(parseCompletion('<answer>Text</answer>', 'direct').valid).toBe(true);
    expect(parseCompletion('<think>x</think><answer>Text</answer>', 'direct').violations).toContain('<think> appears 1 times, expected 0');
  });

  it.each([
    ['<answer>Text</answer>', '<think> appears 0 times, expected 1', 'tag-count'],
    ['<think>p<answer>T</answer>', '<think> ... </think> is not a closed block', 'think-not-closed'],
    ['Sure! <think>p</think><answer>T</answer>', 'text before the first block', 'text-before'],
    ['<think>p</think> so <answer>T</answer>', 'text between </think> and <answer>', 'text-between'],
    ['<think>p</think><answer>T', '<answer> is not closed', 'answer-not-closed'],
    ['<think>p</think><answer>T</answer> bye', 'text after </answer>', 'text-after'],
    ['<think>p</think><answer> </answer>', 'the answer is empty (no letter or digit)', 'answer-empty'],
    ['<think>p</think><answer>... --- ***</answer>', 'the answer is empty (no letter or digit)', 'answer-empty'],
    ['<think>p</think><answer>\u200b\u200b</answer>', 'the answer is empty (no letter or digit)', 'answer-empty'],
    ['<think>p</think><answer>🙂🙂 !</answer>', 'the answer is empty (no letter or digit)', 'answer-empty'],
    ['<think>p<answer>T</answer></think>', '<answer> comes before </think>', 'answer-before-think-close'],
    ['<think>p</think><answer>A</answer><answer>B</answer>', '<answer> appears 2 times, expected 1', 'tag-count'],
  ])('flags %j', (completion, violation, code) => {
    const p = parseCompletion(completion, 'think');
    expect(p.valid).toBe(false);
    expect(p.violations).toContain(violation);
    expect(p.codes[p.violations.indexOf(violation)]).toBe(code);
    expect(p.codes.length).toBe(p.violations.length);
  });

  it('takes any letter or digit, of any script, as an answer', () => {
    for (const answer of ['안녕하세요', 'Привет', '1 2 3', 'café'])
      expect(parseCompletion(`<think>p</think><answer>${answer}</answer>`, 'think').valid).toBe(true);
  });

  // whole parse results by hand: whitespace around blocks is not text, stop markers at the end (in any order, with
  // whitespace between) are stripped, tags match case-sensitively, and each block is the first of its kind
  it.each([
    ['<think>p</think><answer>T</answer>\n', { think: 'p', answer: 'T', trailing: '\n', codes: [] }],
    ['\n <think>p</think>\n<answer>T</answer>', { think: 'p', answer: 'T', trailing: '', codes: [] }],
    ['<think>p</think><answer>T</answer><|endoftext|>', { think: 'p', answer: 'T', trailing: '', codes: [] }],
    ['<think>p</think><answer>T</answer> <|im_end|>\n<|endoftext|>\n', { think: 'p', answer: 'T', trailing: ' ', codes: [] }],
    ['<think>p</think></answer><answer>T', { think: 'p', answer: 'T', trailing: '', codes: ['text-between', 'answer-not-closed'] }],
    [
      '<think>a</think><think>b</think><answer>A</answer><answer>B</answer>',
      {
        think: 'a',
        answer: 'A',
        trailing: '<answer>B</answer>',
        codes: ['tag-count', 'tag-count', 'tag-count', 'tag-count', 'text-between', 'text-after'],
      },
    ],
    [
      '<Think>p</think><answer>T</answer>',
      { think: null, answer: 'T', trailing: '', codes: ['tag-count', 'think-not-closed', 'text-before'] },
    ],
  ])('parses %j', (completion, want) => {
    const p = parseCompletion(completion, 'think');
    expect({ think: p.think, answer: p.answer, trailing: p.trailing, codes: p.codes, valid: p.valid }).toEqual({
      ...want,
      valid: want.codes.length === 0,
    });
  });

  it('reports trailing text verbatim', () => {
    expect(parseCompletion('<think>p</think><answer>T</answer>\nP.S. more<|im_end|>', 'think').trailing).toBe('\nP.S. more');
  });
});

describe('chat templates that open <think> themselves, and where the template lives', () => {
  // the shape of DeepSeek-R1-Distill's generation prompt (our own minimal template, not theirs)
  const R1_LIKE =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}{% elif m['role'] == 'user' %}<｜User｜>{{ m['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}";

  it('reports the opened <think> as the prefill, so prefill + completion parses as one think block', () => {
    const r = renderPrompt(THINK_TEMPLATE, 'Write a poem.', { chatTemplate: R1_LIKE, bosToken: '<｜begin▁of▁sentence｜>' });
    expect(r.text.endsWith('<｜Assistant｜><think>\n')).toBe(true);
    expect(r.prefill).toBe('<think>\n');
    const completion = 'Plan: three stanzas.\n</think>\n\n<answer>The sea.</answer>';
    expect(parseCompletion(completion, 'think').valid).toBe(false); // what was counted before: every answer broken
    expect(parseCompletion(r.prefill + completion, 'think')).toMatchObject({
      valid: true,
      think: 'Plan: three stanzas.',
      answer: 'The sea.',
    });
    expect(renderPrompt(THINK_TEMPLATE, 'Write a poem.').prefill).toBe('');
  });

  it('reads chat_template.jinja beside tokenizer.json, and refuses a template list with no "default"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-chat-'));
    copyFileSync(realTokenizerFile('qwen3'), join(dir, 'tokenizer.json'));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>' }));
    expect(Tokenizer.fromFile(join(dir, 'tokenizer.json')).config.chatTemplate).toBeUndefined();
    writeFileSync(join(dir, 'chat_template.jinja'), R1_LIKE);
    const tok = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(tok.config.chatTemplate).toBe(R1_LIKE);
    expect(renderPromptFor(tok, DIRECT_TEMPLATE, 'x').prefill).toBe('<think>\n');
    expect(() => parseTokenizerConfig({ chat_template: [{ name: 'tool_use', template: 'x' }] })).toThrow(
      /lists templates "tool_use" but none named "default"/,
    );
  });
});

describe('chat templates without a system role', () => {
  // our own minimal templates in the two shapes: one raises on a system turn (as Gemma's), one drops it
  const RAISES =
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}<turn>{{ m['content'] }}</turn>{% endfor %}{% if add_generation_prompt %}<model>{% endif %}";
  const DROPS = "{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% endif %}{% endfor %}";

  it.each([
    ['raises', RAISES],
    ['drops the system turn', DROPS],
  ])('puts the format instruction at the head of the user turn when the template %s', (_, chatTemplate) => {
    const { text } = renderPrompt(THINK_TEMPLATE, 'Write a poem.', { chatTemplate });
    expect(text).toContain(`${THINK_TEMPLATE.system}\n\nWrite a poem.`);
  });

  it('names the chat template when it raises whatever it is given', () => {
    const always = "{{ raise_exception('Conversation roles must alternate') }}";
    expect(() => renderPrompt(THINK_TEMPLATE, 'x', { chatTemplate: always })).toThrow(
      /the checkpoint's chat template \(tokenizer_config.json or chat_template.jinja\) raised: .*Conversation roles must alternate/,
    );
  });
});

describe('strftime_now', () => {
  it("formats as Python's strftime in the C locale, whatever the process locale", () => {
    const day = new Date(2026, 8, 1, 7, 5, 9); // 1 September 2026, 07:05:09 local time
    expect(strftimeNow('%d %b %Y', day)).toBe('01 Sep 2026');
    expect(strftimeNow('%B %m/%d %H:%M:%S %%', day)).toBe('September 09/01 07:05:09 %');
    // templates call ours: @huggingface/jinja's own leaves %S as it is (and names months by the process locale),
    // so on an en-US machine only the seconds tell the two apart
    const text = renderChatTemplate("Today Date: {{ strftime_now('%d %b %Y %S') }}", []);
    expect(text).toMatch(/^Today Date: \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d$/);
  });
});
