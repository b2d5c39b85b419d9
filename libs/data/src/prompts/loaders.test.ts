import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@lwz/core';
import { detectPromptFormat, loadPromptFile, parsePromptSet } from './loaders';
import { errorOf } from '@lwz/core/testing';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('prompt loaders', () => {
  it('loads LongBench-Write rows with type and required length', () => {
    const set = loadPromptFile(fixture('longbench-write.jsonl'));
    expect(set.format).toBe('longbench-write');
    expect(set.rows.map((r) => r.length)).toEqual([300, 500, 150]);
    expect(set.rows[1].prompt).toBe('写一篇500字的关于秋天的短文');
    expect(set.rows[0].id).toBe('longbench-write.jsonl:1');
    expect(set.rows[2].fields.type).toBe('Literature and Creative Writing');
  });

  it('loads WritingBench v2 checklists and v1 criteria with their score bands', () => {
    const v2 = loadPromptFile(fixture('writingbench-v2.jsonl'));
    expect(v2.format).toBe('writingbench-v2');
    expect(v2.rows.map((r) => r.id)).toEqual(['7', '12']);
    expect(v2.rows[0].criteria?.map((c) => c.name)).toEqual(['Imagery', 'Length']);
    expect(v2.rows[0].criteria?.[0].bands['9-10']).toBe('Vivid images throughout.');
    expect(v2.rows[1].type).toBe('Finance & Business');
    const v1 = loadPromptFile(fixture('writingbench-v1.jsonl'));
    expect(v1.format).toBe('writingbench-v1');
    expect(v1.rows[0].criteria?.[1]).toEqual({ name: 'Fit', description: 'Suits ten-year-olds.', bands: {} });
  });

  it('loads Arena-Write rows (baseline responses as an object or a string) and plain prompts', () => {
    const arena = loadPromptFile(fixture('arena-write.jsonl'));
    expect(arena.format).toBe('arena-write');
    expect(arena.rows.map((r) => [r.id, r.length, r.type])).toEqual([
      ['1', 1000, 'Fiction'],
      ['2', 800, 'Essay'],
    ]);
    // every baseline answer a string: an array or a null answer is named at its line (the arena read an array as
    // players "0", "1", ..., and a null answer stopped it with a stack trace naming no file)
    const row = (br: unknown) => JSON.stringify({ idx: 1, question: 'q', baseline_response: br }) + '\n';
    expect(errorOf(() => parsePromptSet(row({ 'gpt-4o': 'a', claude: null }), 'aw.jsonl')).message).toBe(
      'aw.jsonl:1: field "baseline_response.claude" must be a string (that model\'s answer), got null; leave the name out of a row it did not answer',
    );
    expect(errorOf(() => parsePromptSet(row(['a', 'b']), 'aw.jsonl')).message).toBe(
      'aw.jsonl:1: field "baseline_response" must be a string or an object {model name: response}, got an array',
    );
    expect(errorOf(() => parsePromptSet(row(null), 'aw.jsonl'))).toBeInstanceOf(UserError);
    expect(parsePromptSet(row({}), 'aw.jsonl').rows).toHaveLength(1);
    const plain = loadPromptFile(fixture('plain-prompts.jsonl'));
    expect(plain.format).toBe('prompt');
    expect(plain.rows.map((r) => r.id)).toEqual(['plain-prompts.jsonl:1', 'p2']);
    expect(plain.rows[1].line).toBe(3);
  });

  it('names file:line and the bad field for a malformed row', () => {
    const e = errorOf(() => loadPromptFile(fixture('malformed-length.jsonl')));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/malformed-length\.jsonl:2: field "length" must be a positive integer/);
    expect(errorOf(() => loadPromptFile(fixture('malformed-json.jsonl'))).message).toMatch(/malformed-json\.jsonl:2: invalid JSON/);
  });

  it('checks every row against the format the first row set', () => {
    const text =
      '{"index": 1, "domain1": "A", "query": "q", "checklist": [{"name": "n", "criteria_description": "d"}]}\n' +
      '{"index": 2, "domain1": "A", "query": "q2", "checklist": [{"name": 5}]}\n';
    expect(errorOf(() => parsePromptSet(text, 'x.jsonl')).message).toBe(
      'x.jsonl:2: field "checklist[0].name" must be a string, got number 5',
    );
    // an empty checklist is named as empty ("must be a non-empty array, got an array" read as a contradiction)
    expect(errorOf(() => parsePromptSet(text.split('\n')[0].replace(/\[\{.*\}\]/, '[]') + '\n', 'x.jsonl')).message).toBe(
      'x.jsonl:1: field "checklist" must be a non-empty array, got an empty array',
    );
    const dup = '{"prompt": "a", "id": "1"}\n{"prompt": "b", "id": "1"}\n';
    expect(errorOf(() => parsePromptSet(dup, 'd.jsonl')).message).toMatch(/d\.jsonl:2: duplicate id "1" \(first on line 1\)/);
    expect(errorOf(() => parsePromptSet('{"text": "no prompt"}\n', 'u.jsonl')).message).toMatch(
      /u\.jsonl:1: unrecognised prompt row with fields \{text\}/,
    );
    expect(errorOf(() => parsePromptSet('\n\n', 'e.jsonl')).message).toMatch(/e\.jsonl: no prompt rows/);
    // a plain first row then LongBench rows: their type and length were dropped without a word
    const mixed = '{"prompt": "a"}\n{"prompt": "b", "type": "Essay", "length": 500}\n';
    expect(errorOf(() => parsePromptSet(mixed, 'm.jsonl')).message).toBe(
      'm.jsonl:2: a longbench-write row (fields {prompt, type, length}) in a file whose line 1 made it prompt; give every row the same format',
    );
    expect(parsePromptSet(mixed, 'm.jsonl', 'prompt').rows.map((r) => r.prompt)).toEqual(['a', 'b']); // a named format reads both
    // a generated-format row whose length is not in its range: the held-out S_l and the length reward would disagree
    const off = '{"id": "a", "prompt": "p", "type": "t", "length": 500, "length_range": [100, 200]}\n';
    expect(errorOf(() => parsePromptSet(off, 'g.jsonl')).message).toBe(
      'g.jsonl:1: field "length" (500) lies outside "length_range" [100, 200]: S_l scores against length and the length reward against the range; set length to the range\'s centre, 150',
    );
    expect(parsePromptSet(off.replace('500', '150'), 'g.jsonl').rows[0].length).toBe(150);
    expect(errorOf(() => loadPromptFile('/nonexistent/p.jsonl')).message).toMatch(/cannot read \(ENOENT\)/);
    // a prompt saved as Latin-1 is named by line, not read as replacement characters
    const latin1 = join(mkdtempSync(join(tmpdir(), 'lwz-prompts-')), 'p.jsonl');
    writeFileSync(latin1, Buffer.from('{"prompt": "a"}\n{"prompt": "\u00e9crire un po\u00e8me"}\n', 'latin1'));
    expect(errorOf(() => loadPromptFile(latin1)).message).toMatch(/p\.jsonl:2: not valid UTF-8 \(byte 0xE9 at byte 13 of the line\)/);
  });

  it('detects formats by fields', () => {
    expect(detectPromptFormat({ prompt: 'p', length: 5, length_range: [1, 2] })).toBe('lwz-writing');
    expect(detectPromptFormat({ question: 'q', idx: 1 })).toBe('arena-write');
    expect(detectPromptFormat([1])).toBeNull();
    expect(existsSync(fixture('longbench-write.jsonl'))).toBe(true);
  });

  it("reads verl RL rows (export-recipe's heldout.jsonl, or any verl dataset): the last user message, extra_info's id and range", () => {
    const system = { role: 'system', content: 'Plan in <think>, write in <answer>.' };
    const ours = {
      data_source: 'lwz-writing',
      prompt: [system, { role: 'user', content: 'Write 75 words on rain.' }],
      ability: 'writing',
      reward_model: { style: 'rule', ground_truth: '[60,90]' },
      extra_info: { id: 'heldout-000002', index: 2, prompt: 'Write 75 words on rain.', length_range: [60, 90], length: 75 },
    };
    // another task's row: its ground truth is an answer, not a range, and its id is extra_info.index
    const other = {
      data_source: 'gsm8k',
      prompt: [
        { role: 'user', content: 'first turn' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'What is 6 x 7?' },
      ],
      reward_model: { style: 'rule', ground_truth: '42' },
      extra_info: { index: 7 },
    };
    expect(detectPromptFormat(ours)).toBe('verl');
    const set = parsePromptSet(
      `${JSON.stringify(ours)}\n${JSON.stringify(other)}\n{"prompt": [{"role": "user", "content": "bare"}]}\n`,
      'v.jsonl',
    );
    expect(set.format).toBe('verl');
    expect(set.rows.map((r) => [r.id, r.prompt, r.length, r.lengthRange])).toEqual([
      ['heldout-000002', 'Write 75 words on rain.', 75, [60, 90]],
      ['7', 'What is 6 x 7?', undefined, undefined],
      ['v.jsonl:3', 'bare', undefined, undefined],
    ]);
    // the range and length reach the sample lines as top-level fields, as a generated row's do
    expect(set.rows[0].fields).toMatchObject({ length: 75, length_range: [60, 90], data_source: 'lwz-writing' });
    // a range only in ground_truth is taken too
    const truthOnly = { ...ours, extra_info: { id: 'x' } };
    expect(parsePromptSet(JSON.stringify(truthOnly) + '\n', 't.jsonl').rows[0].lengthRange).toEqual([60, 90]);
    const bad = (row: unknown) => errorOf(() => parsePromptSet(JSON.stringify(row) + '\n', 'b.jsonl')).message;
    expect(bad({ prompt: [system] })).toBe(
      'b.jsonl:1: field "prompt" (chat messages) has no user message with text; the prompt is the last {"role": "user"} message',
    );
    expect(bad({ prompt: ['hello'] })).toMatch(
      /b\.jsonl:1: field "prompt\[0\]" must be a chat message \{"role": \.\.\., "content": "\.\.\."\}, got string "hello"/,
    );
    expect(bad({ ...ours, extra_info: { length_range: [90, 60] } })).toMatch(
      /b\.jsonl:1: field "extra_info\.length_range" must be \[lo, hi\]/,
    );
  });
});
