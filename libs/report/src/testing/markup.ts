// Structural checks for generated markup, used by this lib's tests instead of snapshots: tags balance, no
// stray '<' or '>' outside tags (i.e. all text was escaped), and element counts.

const TAG = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** Throws naming the first problem: an unclosed/mismatched tag, or markup characters in text. */
export function checkMarkup(html: string): void {
  const body = html.replace(/^<!doctype html>/i, '');
  const stack: string[] = [];
  for (const m of body.matchAll(TAG)) {
    const [, close, name, , selfClose] = m;
    if (selfClose || VOID.has(name)) continue;
    if (!close) stack.push(name);
    else if (stack.pop() !== name) throw new Error(`</${name}> at ${m.index} closes the wrong element`);
  }
  if (stack.length) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  const text = body.replace(TAG, '');
  const stray = /[<>]/.exec(text);
  if (stray)
    throw new Error(`unescaped "${stray[0]}" in text near ${JSON.stringify(text.slice(Math.max(0, stray.index - 30), stray.index + 30))}`);
}

export function count(html: string, element: string): number {
  return html.match(new RegExp(`<${element}[\\s>/]`, 'g'))?.length ?? 0;
}

/** Every value of `attr` on `element`s, in document order. */
export function attrs(html: string, element: string, attr: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(new RegExp(`<${element}\\s[^>]*>`, 'g'))) {
    const v = new RegExp(`\\s${attr}="([^"]*)"`).exec(m[0]);
    if (v) out.push(v[1]);
  }
  return out;
}
