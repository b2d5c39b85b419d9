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
