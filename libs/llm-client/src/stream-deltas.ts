// Stream chunks (zod-parsed SSE events) turned into deltas, one per choice per chunk: the pieces of text
// that, concatenated per `index`, give the same text as the non-streamed answer (assembleDeltas does that).
import type { z } from '@lwz/core';
import { normaliseLogprobs, type TokenLogprobs } from './wire';
import type { chatChunkSchema, completionChunkSchema } from './wire';

export interface CompletionDelta {
  /** which of the n answers */
  index: number;
  text: string;
  /** set on the last delta of an answer */
  finishReason: string | null;
  logprobs?: TokenLogprobs;
}

export interface ChatDelta {
  index: number;
  content: string;
  reasoning?: string;
  finishReason: string | null;
}

export function toCompletionDeltas(chunk: z.infer<typeof completionChunkSchema>): CompletionDelta[] {
  return chunk.choices.map((c, i) => ({
    index: c.index ?? i,
    text: c.text ?? '',
    finishReason: c.finish_reason ?? null,
    logprobs: normaliseLogprobs(c.logprobs),
  }));
}

export function toChatDeltas(chunk: z.infer<typeof chatChunkSchema>): ChatDelta[] {
  return chunk.choices.map((c, i) => ({
    index: c.index ?? i,
    content: c.delta?.content ?? '',
    reasoning: c.delta?.reasoning_content ?? undefined,
    finishReason: c.finish_reason ?? null,
  }));
}

/** Join deltas per answer: `{ index -> { text, finishReason } }` as an array ordered by index. */
export function assembleDeltas(
  deltas: Iterable<CompletionDelta | ChatDelta>,
): { index: number; text: string; finishReason: string | null }[] {
  const byIndex = new Map<number, { index: number; text: string; finishReason: string | null }>();
  for (const d of deltas) {
    const entry = byIndex.get(d.index) ?? { index: d.index, text: '', finishReason: null };
    entry.text += 'text' in d ? d.text : d.content;
    if (d.finishReason !== null) entry.finishReason = d.finishReason;
    byIndex.set(d.index, entry);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}
