// Finding JSON objects inside model replies (prose, code fences and <think> blocks around them): the brace
// matching that the judges' reply validator (@lwz/llm-client) and the length assessor (@lwz/rewards) share.

/**
 * End index (exclusive) of the balanced `{...}` that starts at text[start] (a '{'), braces inside JSON strings
 * and escaped quotes respected; -1 when the text ends before it closes. Says nothing about whether it parses.
 */
export function balancedObjectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * A model reply's answer: the text after its last `</think>`. A reasoning model's deliberation, with or without
 * the opening tag (DeepSeek-R1's template opens it in the prompt), is not its answer: a label or a JSON object
 * written while it weighs options must not be read as its verdict. A `<think>` that never closes means the reply
 * was cut off while reasoning: not usable.
 */
export function replyAnswer(reply: string): { ok: true; text: string } | { ok: false; reason: string } {
  let after = 0;
  for (const m of reply.matchAll(/<\/think\s*>/gi)) after = (m.index ?? 0) + m[0].length;
  const text = reply.slice(after);
  if (/<think\s*>/i.test(text)) {
    return {
      ok: false,
      reason: 'the reply opens a <think> block that never closes (cut off while reasoning?); the answer must follow </think>',
    };
  }
  return { ok: true, text };
}

/** The last JSON object in a reply, or why the reply's last object cannot be read. */
export type FoundJsonObject = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

const QUOTED_KEY = /["'][^"'\n]{1,60}["']\s*:/;

/**
 * The JSON object that ends last in `text` (the outermost one there; objects nested in it are not candidates),
 * only objects holding `key` when given; undefined when there is none. A block after it that looks like a JSON
 * object (a quoted key and a colon, naming `key` when given) but does not parse (single quotes, a trailing comma)
 * is the reply's final answer, unreadable: `ok: false` then, never the earlier draft before it.
 */
export function findLastJsonObject(text: string, key?: string): FoundJsonObject | undefined {
  let best: { end: number; value: Record<string, unknown> } | undefined;
  let broken: { end: number; block: string } | undefined;
  let insideParsed = -1; // objects nested in one that parsed are part of it
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    if (start < insideParsed) continue;
    const end = balancedObjectEnd(text, start);
    if (end < 0) continue;
    const block = text.slice(start, end);
    let value: unknown;
    try {
      value = JSON.parse(block);
    } catch {
      const named = key === undefined || block.includes(`"${key}"`) || block.includes(`'${key}'`);
      if (named && QUOTED_KEY.test(block) && !(broken && end <= broken.end)) broken = { end, block };
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    insideParsed = end;
    if (key !== undefined && !(key in value)) continue;
    if (!best || end > best.end) best = { end, value: value as Record<string, unknown> };
  }
  if (broken && (!best || broken.end > best.end)) {
    const shown = broken.block.length > 120 ? `${broken.block.slice(0, 117)}...` : broken.block;
    return { ok: false, reason: `the last JSON object does not parse (double quotes, no trailing commas): ${shown}` };
  }
  return best && { ok: true, value: best.value };
}
