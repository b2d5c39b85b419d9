// What llama.cpp must be told about a byte-level BPE tokenizer.json for its tokens to equal Hugging Face's: the
// pre-tokenizer split by llama.cpp's name for it (tokenizer.ggml.pre), and whether a BOS is added (the
// post-processor's template). llama.cpp's gpt2-type vocabulary applies no normalizer at all, so a tokenizer.json
// it would read differently (another split regex, Lowercase, NFKC, ...) is refused rather than exported to
// tokenize differently without a word. The one exception is the NFC the Qwen family's files name: refusing it
// would refuse every Qwen tokenizer, and text already in NFC (nearly all text) tokenizes the same, so it is
// exported with a note (`nfc`) telling the caller to give llama.cpp NFC text ("e" + U+0301 differs otherwise).
import { UserError } from '@lwz/core';
import { GPT2_SPLIT_PATTERN, QWEN2_SPLIT_PATTERN } from '@lwz/tokenizer';

type Json = Record<string, unknown>;

/** Llama-3's split: Qwen2's with digits in runs of up to three (llama.cpp's "llama-bpe"). */
const LLAMA3_SPLIT_PATTERN = QWEN2_SPLIT_PATTERN.replace('\\p{N}|', '\\p{N}{1,3}|');

/** llama.cpp's pre-tokenizer names by the split regex they implement. */
const PRE_BY_PATTERN = new Map([
  [QWEN2_SPLIT_PATTERN, 'qwen2'],
  [LLAMA3_SPLIT_PATTERN, 'llama-bpe'],
  [GPT2_SPLIT_PATTERN, 'gpt-2'],
]);

export interface GgufTokenizerKind {
  /** tokenizer.ggml.pre */
  pre: string;
  /** the id the post-processor puts before every sequence (tokenizer.ggml.add_bos_token), if any */
  bos?: number;
  /** the tokenizer normalizes to NFC, which llama.cpp does not do */
  nfc: boolean;
}

const parts = (node: unknown, list: string): Json[] => {
  const n = node as Json | null | undefined;
  if (!n) return [];
  return n.type === 'Sequence' ? ((n[list] as Json[] | undefined) ?? []) : [n];
};

export function ggufTokenizerKind(json: unknown, source: string): GgufTokenizerKind {
  const spec = json as Json;
  const norms = parts(spec.normalizer, 'normalizers').map((n) => String(n.type));
  const other = norms.filter((t) => t !== 'NFC');
  if (other.length)
    throw new UserError(
      `${source}: its normalizer (${norms.join(', ')}) is not one llama.cpp applies to a BPE vocabulary, so the GGUF would tokenize differently; export to ONNX instead`,
    );
  const pres = parts(spec.pre_tokenizer, 'pretokenizers');
  const split = pres.find((p) => p.type === 'Split');
  const regex = (split?.pattern as Json | undefined)?.Regex;
  let pre: string | undefined;
  if (typeof regex === 'string') pre = PRE_BY_PATTERN.get(regex);
  else if (pres.some((p) => p.type === 'ByteLevel' && p.use_regex !== false)) pre = 'gpt-2';
  if (pre === undefined)
    throw new UserError(
      `${source}: its pre-tokenizer split (${typeof regex === 'string' ? JSON.stringify(regex) : 'none'}) is not one llama.cpp knows by name (qwen2, llama-bpe, gpt-2), so the GGUF would tokenize differently; export to ONNX instead`,
    );
  // a TemplateProcessing that puts a special token before $A: llama.cpp adds it as BOS
  const template = parts(spec.post_processor, 'processors').find((p) => p.type === 'TemplateProcessing');
  const single = (template?.single as Json[] | undefined) ?? [];
  const firstSpecial =
    single.length > 1 && 'SpecialToken' in (single[0] ?? {}) ? ((single[0].SpecialToken as Json).id as string) : undefined;
  const ids = (template?.special_tokens as Record<string, { ids?: number[] }> | undefined)?.[firstSpecial ?? '']?.ids;
  return { pre, nfc: norms.includes('NFC'), ...(ids?.length === 1 ? { bos: ids[0] } : {}) };
}
