// Which prompts a run draws and which it refuses before its run directory exists: a prompt file row keeps its
// required words; the held-out prompts are not the training ones; and fitPromptsToContext refuses (or, with
// prompts.skipLong, leaves out) exactly the rows grpoStep would stop at (fewer than 2 tokens of room), naming up
// to five of them. Hand-made prompts and token counts; no model or tokenizer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGrpoConfig, type GrpoConfig } from './config';
import { fitPromptsToContext, loadPrompts, type GrpoPrompt, type PromptSource } from './prompts';

/** A config with a prompt file, whose fields fitPromptsToContext reads. */
const cfg = (maxNewTokens: number, skipLong = false) =>
  ({ rollout: { maxNewTokens }, prompts: { file: 'f.jsonl', skipLong } }) as unknown as GrpoConfig;

/** Prompt file rows of the given token counts, on lines 1, 2, ...; rows with `named` carry an id of their own. */
function source(tokens: number[], named = false): { src: PromptSource; ids: (p: GrpoPrompt) => number[] } {
  const train = tokens.map((_, i) => ({ id: named ? `p${i + 1}` : `f.jsonl:${i + 1}`, prompt: `row ${i + 1}`, where: `f.jsonl:${i + 1}` }));
  const ids = (p: GrpoPrompt) => new Array<number>(tokens[train.indexOf(p as (typeof train)[number])]).fill(1);
  return { src: { train, heldout: [], origin: 'f.jsonl' }, ids };
}

describe('fitPromptsToContext', () => {
  it('refuses a row that leaves less than 2 tokens of room (as grpoStep does), and keeps one that leaves 2', () => {
    const { src, ids } = source([8, 9, 10]);
    expect(() => fitPromptsToContext(cfg(4), src, 10, ids, 'think', () => undefined)).toThrow(
      /^2 prompts of f\.jsonl leave no room for an answer in the model's 10-token context with the think template: f\.jsonl:2 \(9 tokens\), f\.jsonl:3 \(10 tokens\)\. Remove them/,
    );
    const fits = source([8, 1]);
    fitPromptsToContext(cfg(4), fits.src, 10, fits.ids, 'think', () => undefined);
    expect(fits.src.train).toHaveLength(2);
  });

  it('names five of six rows, with their own ids, then "..." (five rows: no "...")', () => {
    const refusal = (rows: number) => {
      const { src, ids } = source(new Array<number>(rows).fill(20), true);
      try {
        fitPromptsToContext(cfg(4), src, 10, ids, 'think', () => undefined);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(refusal(5)).toContain('f.jsonl:5 (id "p5", 20 tokens). Remove them');
    const message = refusal(6);
    expect(message).toMatch(/^6 prompts of f\.jsonl leave no room/);
    expect(message).toContain(
      ': f.jsonl:1 (id "p1", 20 tokens), f.jsonl:2 (id "p2", 20 tokens), f.jsonl:3 (id "p3", 20 tokens), f.jsonl:4 (id "p4", 20 tokens), f.jsonl:5 (id "p5", 20 tokens), .... Remove them',
    );
  });

  it('with prompts.skipLong leaves the long rows out, changes nothing when there are none, and refuses when none is left', () => {
    const lines: string[] = [];
    const none = source([3, 4]);
    fitPromptsToContext(cfg(4, true), none.src, 10, none.ids, 'think', (l) => lines.push(l));
    expect([none.src.train.length, none.src.origin, lines]).toEqual([2, 'f.jsonl', []]);
    const some = source([3, 9, 4]);
    fitPromptsToContext(cfg(4, true), some.src, 10, some.ids, 'think', (l) => lines.push(l));
    expect(some.src.train.map((p) => p.where)).toEqual(['f.jsonl:1', 'f.jsonl:3']);
    expect(lines).toHaveLength(1);
    const all = source([9, 10]);
    expect(() => fitPromptsToContext(cfg(4, true), all.src, 10, all.ids, 'think', () => undefined)).toThrow(
      /^every prompt of f\.jsonl leaves no room/,
    );
  });

  it('refuses rollout.maxNewTokens that reaches the context, and takes one token less', () => {
    const { src, ids } = source([3]);
    expect(() => fitPromptsToContext(cfg(10), src, 10, ids, 'think', () => undefined)).toThrow(/^rollout\.maxNewTokens: 10 new tokens/);
    fitPromptsToContext(cfg(9), src, 10, ids, 'think', () => undefined);
  });
});

describe('loadPrompts', () => {
  it("keeps a file row's required words and place; the held-out prompts are generated apart from the training ones", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-prompts-')), 'p.jsonl');
    writeFileSync(
      file,
      JSON.stringify({ id: 'rain', prompt: 'Write 300 words about rain.', type: 'essay', length: 300, length_range: [250, 350] }) + '\n',
    );
    const fromFile = loadPrompts(resolveGrpoConfig({ overrides: { prompts: { file } } }));
    expect(fromFile.train).toEqual([
      { id: 'rain', prompt: 'Write 300 words about rain.', length: 300, length_range: [250, 350], where: `${file}:1` },
    ]);
    const generated = loadPrompts(resolveGrpoConfig({ overrides: { prompts: { generator: { train: 40, heldout: 8 } } } }));
    expect([generated.train.length, generated.heldout.length]).toEqual([40, 8]);
    const trained = new Set(generated.train.map((p) => p.prompt));
    expect(generated.heldout.filter((p) => trained.has(p.prompt))).toEqual([]);
  });
});
