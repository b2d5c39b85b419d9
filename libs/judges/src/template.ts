// Judge prompt templates with Python str.format placeholders: `{query}` is replaced, `{{` and `}}` are
// literal braces. That is the syntax of WritingBench's published critic templates, so a user can pass
// those files (or their own) as they are. Checked once when loaded: an unknown placeholder or a missing
// required one is a UserError naming the template's source. No expressions, no format specs, no loops.
import { readFileSync } from 'node:fs';
import { UserError } from '@lwz/core';

type Piece = { text: string } | { field: string };

/** Split a template into literal text and `{field}` pieces; throws a plain Error on a stray brace. */
function parse(template: string): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '{' && template[i + 1] === '{') {
      text += '{';
      i++;
    } else if (c === '}' && template[i + 1] === '}') {
      text += '}';
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      const name = end < 0 ? '' : template.slice(i + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        const line = template.slice(0, i).split('\n').length;
        throw new Error(`line ${line}: "{" must open a placeholder such as {query}; write {{ for a literal brace`);
      }
      if (text) pieces.push({ text });
      text = '';
      pieces.push({ field: name });
      i = end;
    } else if (c === '}') {
      const line = template.slice(0, i).split('\n').length;
      throw new Error(`line ${line}: a lone "}"; write }} for a literal brace`);
    } else text += c;
  }
  if (text) pieces.push({ text });
  return pieces;
}

/** A checked template: `render` fills every placeholder; the fields it uses are known up front. */
export class PromptTemplate {
  readonly fields: ReadonlySet<string>;
  private readonly pieces: Piece[];

  /**
   * `allowed`: the placeholders this judge fills; `required`: those the template must use (the answer
   * under judgement, say). `source` names the template in errors (a file path or "built-in ...").
   */
  constructor(
    readonly text: string,
    readonly source: string,
    allowed: readonly string[],
    required: readonly string[] = [],
  ) {
    try {
      this.pieces = parse(text);
    } catch (e) {
      throw new UserError(`judge template ${source}: ${(e as Error).message}`);
    }
    this.fields = new Set(this.pieces.flatMap((p) => ('field' in p ? [p.field] : [])));
    const unknown = [...this.fields].filter((f) => !allowed.includes(f));
    if (unknown.length) {
      throw new UserError(
        `judge template ${source}: unknown placeholder(s) ${unknown.map((f) => `{${f}}`).join(', ')}; ` +
          `valid: ${allowed.map((f) => `{${f}}`).join(', ')} (write {{ and }} for literal braces)`,
      );
    }
    const missing = required.filter((f) => !this.fields.has(f));
    if (missing.length) {
      throw new UserError(`judge template ${source}: must use ${missing.map((f) => `{${f}}`).join(', ')}`);
    }
  }

  render(values: Readonly<Record<string, string>>): string {
    return this.pieces
      .map((p) => {
        if ('text' in p) return p.text;
        const v = values[p.field];
        if (v === undefined) throw new Error(`judge template ${this.source}: no value for {${p.field}}`);
        return v;
      })
      .join('');
  }
}

/** Read a user's template file (UTF-8, a BOM dropped) and check it like a built-in one. */
export function loadPromptTemplate(file: string, allowed: readonly string[], required: readonly string[] = []): PromptTemplate {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new UserError(`judge template ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
  return new PromptTemplate(text, file, allowed, required);
}
