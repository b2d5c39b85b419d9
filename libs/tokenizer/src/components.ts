// The pipeline parts of a tokenizer.json besides the BPE model: normalizer, pre-tokenizer, post-processor and
// decoder, built from their JSON. Only what byte-level BPE files (Qwen2/2.5/3, GPT-2, Llama-3) use is
// supported; anything else fails with an error naming the component. The split regexes' approximations
// (regex.ts) are never silent either: buildPreTokenizer returns them as warnings.
import { UserError } from '@lwz/core';
import { escapeRegex, translateSplitRegex } from './regex';

type Json = Record<string, unknown>;
export type Normalize = (text: string) => string;
/** Splits `text` into pre-tokens, calling `emit` for each (raw text, before the byte-level mapping). */
export type PreTokenize = (text: string, emit: (piece: string) => void) => void;
/** Adds the post-processor's special ids around one sequence's ids. */
export type PostProcess = (ids: number[]) => number[];

/** GPT-2's split pattern, used by a ByteLevel pre-tokenizer with `use_regex: true`. */
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

function unsupported(part: string, type: unknown, supported: string): UserError {
  return new UserError(
    `tokenizer.json ${part}: type ${JSON.stringify(type)} is not supported (supported: ${supported}); ` +
      'only byte-level BPE tokenizers (Qwen2/Qwen3, GPT-2, Llama-3 style) can be loaded',
  );
}

export function buildNormalizer(spec: Json | null | undefined): Normalize {
  if (!spec) return (t) => t;
  switch (spec.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = spec.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      // Hugging Face lowercases character by character; JavaScript's toLowerCase also applies Unicode's one
      // context rule (Final_Sigma: a word-final capital sigma becomes ς), so that letter is mapped to σ first
      return (t) => (t.includes('\u03a3') ? t.replaceAll('\u03a3', '\u03c3') : t).toLowerCase();
    case 'Sequence': {
      const parts = ((spec.normalizers as Json[]) ?? []).map(buildNormalizer);
      return (t) => parts.reduce((acc, f) => f(acc), t);
    }
    default:
      throw unsupported('normalizer', spec.type, 'NFC, NFD, NFKC, NFKD, Lowercase, Sequence');
  }
}

/**
 * Isolated splitting: every match and every gap between matches is a piece; Removed drops the matches. Matches are
 * taken as the Rust tokenizers' Oniguruma iterator takes them: the leftmost match from where the last one ended, an
 * empty match right where the last match ended skipped by one character (any other empty match still ends a gap:
 * "x*" cuts "ab" into "a" and "b"). A sticky `test` finds a match at the search position without a match array (the
 * hot path); only when none starts there does `exec` search ahead.
 */
function splitBy(re: RegExp, keepMatches: boolean): PreTokenize {
  const sticky = new RegExp(re.source, 'uy');
  const search = new RegExp(re.source, 'gu');
  return (text, emit) => {
    let piece = 0; // start of the text not yet emitted
    let at = 0; // where the next search starts (always on a code point boundary)
    let lastEnd = -1; // end of the last match taken
    while (at <= text.length) {
      let start: number;
      let end: number;
      sticky.lastIndex = at;
      if (sticky.test(text)) {
        start = at;
        end = sticky.lastIndex;
      } else {
        search.lastIndex = at;
        const m = search.exec(text);
        if (m === null) break;
        start = m.index;
        end = start + m[0].length;
      }
      if (start === end && end === lastEnd) {
        at += (text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;
        continue;
      }
      if (start > piece) emit(text.slice(piece, start));
      if (keepMatches && end > start) emit(text.slice(start, end));
      piece = at = lastEnd = end;
    }
    if (piece < text.length) emit(text.slice(piece));
  };
}

function buildSplit(spec: Json, warnings: string[]): PreTokenize {
  const pattern = spec.pattern as { Regex?: string; String?: string } | undefined;
  if (spec.invert) throw new UserError('tokenizer.json pre_tokenizer Split: invert=true is not supported');
  let re: RegExp | null = null;
  if (pattern?.Regex !== undefined) {
    const translated = translateSplitRegex(pattern.Regex);
    warnings.push(...translated.warnings.map((w) => `tokenizer.json pre_tokenizer Split: ${w}`));
    re = translated.regex;
  } else if (pattern?.String !== undefined) re = new RegExp(escapeRegex(pattern.String), 'gu');
  if (!re) throw new UserError('tokenizer.json pre_tokenizer Split: pattern needs a Regex or String field');
  if (spec.behavior === 'Isolated') return splitBy(re, true);
  if (spec.behavior === 'Removed') return splitBy(re, false);
  throw new UserError(
    `tokenizer.json pre_tokenizer Split: behavior ${JSON.stringify(spec.behavior)} is not supported (supported: Isolated, Removed)`,
  );
}

function buildByteLevelPre(spec: Json): PreTokenize {
  const split = spec.use_regex === false ? null : splitBy(translateSplitRegex(GPT2_SPLIT_PATTERN).regex, true); // exact: no approximations
  const prefix = spec.add_prefix_space === true;
  return (text, emit) => {
    const t = prefix && !text.startsWith(' ') ? ' ' + text : text;
    if (split) split(t, emit);
    else emit(t);
  };
}

/**
 * The pre-tokenizer, whether it contains the ByteLevel step a byte-level BPE model needs, and one warning
 * per approximated regex construct (empty for the Qwen2, Llama-3 and GPT-2 patterns).
 */
export function buildPreTokenizer(spec: Json | null | undefined): { run: PreTokenize; byteLevel: boolean; warnings: string[] } {
  if (!spec) return { run: (t, emit) => emit(t), byteLevel: false, warnings: [] };
  switch (spec.type) {
    case 'Split': {
      const warnings: string[] = [];
      return { run: buildSplit(spec, warnings), byteLevel: false, warnings };
    }
    case 'ByteLevel':
      return { run: buildByteLevelPre(spec), byteLevel: true, warnings: [] };
    case 'Sequence': {
      const parts = ((spec.pretokenizers as Json[]) ?? []).map(buildPreTokenizer);
      const run = parts.reduceRight<PreTokenize>(
        (inner, part) => (text, emit) => part.run(text, (piece) => inner(piece, emit)),
        (text, emit) => emit(text),
      );
      return { run, byteLevel: parts.some((p) => p.byteLevel), warnings: parts.flatMap((p) => p.warnings) };
    }
    default:
      throw unsupported('pre_tokenizer', spec.type, 'Split, ByteLevel, Sequence');
  }
}

function buildTemplate(spec: Json): PostProcess {
  const single = (spec.single as Json[]) ?? [];
  const specials = (spec.special_tokens as Record<string, { ids: number[] }>) ?? {};
  const steps = single.map((piece): number[] | 'A' => {
    if (piece.Sequence) return 'A';
    const id = (piece.SpecialToken as { id: string } | undefined)?.id;
    const entry = id === undefined ? undefined : specials[id];
    if (!entry) throw new UserError(`tokenizer.json post_processor TemplateProcessing: unknown piece ${JSON.stringify(piece)}`);
    return entry.ids;
  });
  return (ids) => steps.flatMap((s) => (s === 'A' ? ids : s));
}

export function buildPostProcessor(spec: Json | null | undefined): PostProcess {
  if (!spec) return (ids) => ids;
  switch (spec.type) {
    case 'ByteLevel':
      return (ids) => ids; // only moves offsets, never ids
    case 'TemplateProcessing':
      return buildTemplate(spec);
    case 'Sequence': {
      const parts = ((spec.processors as Json[]) ?? []).map(buildPostProcessor);
      return (ids) => parts.reduce((acc, f) => f(acc), ids);
    }
    default:
      throw unsupported('post_processor', spec.type, 'ByteLevel, TemplateProcessing, Sequence');
  }
}

/** Byte-level BPE decodes by mapping vocab characters back to bytes; the decoder must say exactly that. */
export function checkDecoder(spec: Json | null | undefined): void {
  if (spec?.type === 'ByteLevel') return;
  if (spec?.type === 'Sequence' && ((spec.decoders as Json[]) ?? []).every((d) => d.type === 'ByteLevel')) return;
  throw unsupported('decoder', spec?.type ?? null, 'ByteLevel');
}
