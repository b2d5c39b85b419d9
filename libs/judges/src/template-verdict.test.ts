// Templates (Python-format placeholders, checked at load) and verdict labels (the last one wins).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromptTemplate, loadPromptTemplate } from './template';
import { isStrongVerdict, lastVerdictLabel, swapVerdict, toLevels, verdictReply, verdictScoreA, VERDICT_LABELS } from './verdict';
import { CRITERIA_FIELDS, DEFAULT_CRITERIA_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, PAIRWISE_FIELDS } from './prompts';

describe('PromptTemplate', () => {
  it('fills placeholders and keeps doubled braces as literal braces', () => {
    const t = new PromptTemplate('Q: {query}\n{{"score": {max}}}', 'test', ['query', 'max']);
    expect(t.render({ query: 'write {x}', max: '10' })).toBe('Q: write {x}\n{"score": 10}');
    expect([...t.fields].sort()).toEqual(['max', 'query']);
  });

  it('names unknown, missing and malformed placeholders with the source', () => {
    expect(() => new PromptTemplate('{qeury}', 'my.txt', ['query'])).toThrow(
      /my\.txt: unknown placeholder\(s\) \{qeury\}; valid: \{query\}/,
    );
    expect(() => new PromptTemplate('{query}', 'my.txt', ['query', 'response'], ['response'])).toThrow(/must use \{response\}/);
    expect(() => new PromptTemplate('a\n{"score": 1}', 'my.txt', ['query'])).toThrow(/line 2: "\{" must open a placeholder/);
    expect(() => new PromptTemplate('x }', 'my.txt', ['query'])).toThrow(/lone "\}"/);
  });

  it("loads WritingBench's published template syntax and our built-ins", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-tpl-'));
    const file = join(dir, 'critic.txt');
    writeFileSync(
      file,
      '\uFEFF** Criteria **\n```{criteria}```\n** Query **\n```{query}```\n** Response **\n```{response}```\n{{\n "score": 1\n}}',
    );
    const t = loadPromptTemplate(file, CRITERIA_FIELDS, ['response']);
    expect(t.render({ criteria: 'C', query: 'Q', response: 'R' })).toBe(
      '** Criteria **\n```C```\n** Query **\n```Q```\n** Response **\n```R```\n{\n "score": 1\n}',
    );
    expect(() => loadPromptTemplate(join(dir, 'nope.txt'), CRITERIA_FIELDS)).toThrow(/cannot read \(ENOENT\)/);
    expect(() => new PromptTemplate(DEFAULT_CRITERIA_TEMPLATE, 'built-in', CRITERIA_FIELDS, ['response'])).not.toThrow();
    expect(() => new PromptTemplate(DEFAULT_PAIRWISE_TEMPLATE, 'built-in', PAIRWISE_FIELDS, ['answer_a', 'answer_b'])).not.toThrow();
  });
});

describe('verdict labels', () => {
  it('takes the last label, tolerating spaces inside the brackets', () => {
    expect(lastVerdictLabel('Options: [[A>>B]], [[A>B]] ... my verdict: [[B > A]]')).toBe('B>A');
    expect(lastVerdictLabel('[[A>>B]] first, then [[A=B]]')).toBe('A=B');
    expect(lastVerdictLabel('A>B without brackets')).toBeNull();
    // single brackets only when there is no double-bracket label (Arena-Hard's fallback)
    expect(lastVerdictLabel('my verdict: [A>B]')).toBe('A>B');
    expect(lastVerdictLabel('[[B>A]] and later [A>B]')).toBe('B>A');
    // lower case and full-width forms (Chinese judges)
    expect(lastVerdictLabel('final: [[a>>b]]')).toBe('A>>B');
    expect(lastVerdictLabel('最终结论：［［Ａ＞Ｂ］］')).toBe('A>B');
    expect(lastVerdictLabel('最终结论：[[A＞B]]')).toBe('A>B');
    expect(lastVerdictLabel('[[A<B]] [[A==B]]')).toBeNull();
  });

  it('maps labels to scores, swaps and 3-level collapse', () => {
    expect(VERDICT_LABELS.map(verdictScoreA)).toEqual([1, 1, 0.5, 0, 0]);
    expect(VERDICT_LABELS.map(swapVerdict)).toEqual(['B>>A', 'B>A', 'A=B', 'A>B', 'A>>B']);
    expect(VERDICT_LABELS.map((l) => toLevels(l, 3))).toEqual(['A>B', 'A>B', 'A=B', 'B>A', 'B>A']);
  });

  it('rejects a reply without a label, naming the labels it needs', () => {
    const v3 = verdictReply(3);
    expect(v3('fine. [[A>>B]]')).toEqual({ ok: true, value: 'A>B' });
    const bad = v3('no decision');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/\[\[A>B\]\], \[\[A=B\]\], \[\[B>A\]\]/);
    expect(verdictReply(5)('x [[B>>A]]')).toEqual({ ok: true, value: 'B>>A' });
  });
});

describe('template and verdict edges', () => {
  it('refuses to render a template without a value for one of its placeholders', () => {
    const t = new PromptTemplate('Q: {query}', 'my.txt', ['query']);
    expect(() => t.render({})).toThrow(/judge template my\.txt: no value for \{query\}/);
  });

  it('calls A>>B and B>>A strong, and nothing else', () => {
    expect(VERDICT_LABELS.map(isStrongVerdict)).toEqual([true, false, false, false, true]);
  });
});
