// The field rules of the prompt loaders, one by one: what each format refuses (an empty prompt, a length that is not
// a positive integer, a malformed range) and the boundaries it accepts (a length at either end of its range, the
// paper's [0, 0] "cannot be fulfilled" range), plus ids, string checklists, a WritingBench row with both checklist and
// criteria, a BOM and an unknown format name.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@lwz/core';
import { loadPromptFile, parsePromptSet } from './loaders';
import type { PromptFormat } from './types';
import { errorOf } from '@lwz/core/testing';

const line = (row: unknown) => JSON.stringify(row) + '\n';
const message = (row: unknown) => errorOf(() => parsePromptSet(line(row), 'r.jsonl')).message;

describe('prompt field rules', () => {
  it('refuses a blank prompt, a zero or fractional length, an empty id and a non-number Arena-Write length', () => {
    expect(message({ prompt: '  ' })).toBe('r.jsonl:1: field "prompt" must be a non-empty string, got string "  "');
    const lb = { prompt: 'p', type: 't' };
    expect(message({ ...lb, length: 0 })).toBe('r.jsonl:1: field "length" must be a positive integer (words), got number 0');
    expect(message({ ...lb, length: 300.5 })).toBe('r.jsonl:1: field "length" must be a positive integer (words), got number 300.5');
    expect(message({ prompt: 'p', id: '' })).toBe('r.jsonl:1: field "id" must be a number or non-empty string, got string ""');
    expect(message({ idx: 1, question: 'q', length: '1000' })).toMatch(
      /field "length" must be a positive integer \(words\), got string "1000"/,
    );
    // a question with baseline answers is an Arena-Write row: its missing idx is named, not "unrecognised row"
    expect(message({ question: 'q', baseline_response: 'a' })).toBe(
      'r.jsonl:1: field "idx" must be a number or non-empty string, got missing',
    );
  });

  it('takes length_range bounds inclusively, and [0, 0] (cannot be fulfilled) with any length', () => {
    const gen = (length: number, range: unknown) => ({ id: 'g', prompt: 'p', type: 't', length, length_range: range });
    const rangeOf = (row: unknown) => parsePromptSet(line(row), 'g.jsonl').rows[0];
    expect(rangeOf(gen(100, [100, 200])).length).toBe(100);
    expect(rangeOf(gen(200, [100, 200])).length).toBe(200);
    expect(rangeOf(gen(300, [300, 300])).lengthRange).toEqual([300, 300]);
    expect(rangeOf(gen(500, [0, 0])).lengthRange).toEqual([0, 0]);
    for (const bad of [
      [-10, 100],
      [100, 200, 300],
      [200, 100],
      [100, '200'],
    ]) {
      expect(message(gen(150, bad))).toMatch(/^r\.jsonl:1: field "length_range" must be \[lo, hi\] with 0 <= lo <= hi \(words\)/);
    }
  });

  it("names string checklist items by their 1-based position, and keeps a LongBench-Write row's own id", () => {
    const v2 = parsePromptSet(line({ index: 3, domain1: 'D', query: 'q', checklist: ['Clear argument', 'Cites sources'] }), 'w.jsonl');
    expect(v2.rows[0].criteria).toEqual([
      { name: 'criterion 1', description: 'Clear argument', bands: {} },
      { name: 'criterion 2', description: 'Cites sources', bands: {} },
    ]);
    expect(parsePromptSet(line({ id: 'lb-7', prompt: 'p', type: 't', length: 300 }), 'l.jsonl').rows[0].id).toBe('lb-7');
  });

  it('refuses a WritingBench row whose checklist and criteria differ, naming file:line, and reads one whose two agree', () => {
    const crit = (name: string) => ({ name, criteria_description: `${name} is good.`, '9-10': 'Excellent.' });
    const row = { index: 1, domain1: 'D', domain2: 'S', query: 'q', checklist: [crit('Length')], criteria: [crit('Style')] };
    // line 1's two lists agree, line 2's differ
    const text = line({ ...row, criteria: row.checklist }) + line({ ...row, index: 2 });
    expect(errorOf(() => parsePromptSet(text, 'both.jsonl')).message).toBe(
      'both.jsonl:2: has both "checklist" (WritingBench v2) and "criteria" (v1), and they differ: which to score is ambiguous; keep one of the two fields (WritingBench\'s own files carry only "checklist")',
    );
    const same = parsePromptSet(line({ ...row, criteria: row.checklist }), 'same.jsonl');
    expect([same.format, same.rows[0].criteria?.map((c) => c.name)]).toEqual(['writingbench-v2', ['Length']]);
  });

  it('reads a file that starts with a UTF-8 byte-order mark, and names an unknown format with the valid ones', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-prompts-')), 'bom.jsonl');
    writeFileSync(file, '\uFEFF{"prompt": "a"}\n{"prompt": "b"}\n'); // as Windows Notepad saves UTF-8
    const set = loadPromptFile(file);
    expect([set.format, set.rows.map((r) => r.prompt)]).toEqual(['prompt', ['a', 'b']]);
    const e = errorOf(() => parsePromptSet('{"prompt": "a"}\n', 'x.jsonl', 'csv' as PromptFormat));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe(
      'unknown prompt format "csv"; valid: lwz-writing, longbench-write, writingbench-v1, writingbench-v2, arena-write, verl, prompt',
    );
  });
});
