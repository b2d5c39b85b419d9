// What llama.cpp must be told about a byte-level BPE tokenizer.json for its tokens to equal Hugging Face's: the
// pre-tokenizer split by llama.cpp's name for it (tokenizer.ggml.pre), and whether a BOS or an EOS is added (the
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
  /** the id the post-processor appends after every sequence (tokenizer.ggml.add_eos_token), if any */
  eos?: number;
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
  return { pre, nfc: norms.includes('NFC'), ...templateSpecials(spec, source) };
}

/**
 * The special tokens a TemplateProcessing wraps every single sequence in, as llama.cpp can say them: at most one
 * token before the text (add_bos_token) and at most one after it (add_eos_token); any other template is refused,
 * since our tokenizer applies it whole and llama.cpp would not.
 */
function templateSpecials(spec: Json, source: string): { bos?: number; eos?: number } {
  const template = parts(spec.post_processor, 'processors').find((p) => p.type === 'TemplateProcessing');
  if (!template) return {};
  const single = (template.single as Json[] | undefined) ?? [];
  const at = single.findIndex((p) => 'Sequence' in p);
  const specials = (template.special_tokens as Record<string, { ids?: number[] }> | undefined) ?? {};
  const idsOf = (p: Json): number[] => specials[((p.SpecialToken as Json | undefined)?.id as string | undefined) ?? '']?.ids ?? [];
  // the ids each side of the text, as our tokenizer adds them
  const [before, after] = [single.slice(0, Math.max(at, 0)).flatMap(idsOf), single.slice(at + 1).flatMap(idsOf)];
  if (at < 0 || before.length > 1 || after.length > 1) {
    throw new UserError(
      `${source}: its post_processor template (${JSON.stringify(single)}) is not the text with at most one special token before it (BOS) and one after it (EOS), the most llama.cpp adds, so the GGUF would tokenize differently; export to ONNX instead`,
    );
  }
  return { ...(before.length ? { bos: before[0] } : {}), ...(after.length ? { eos: after[0] } : {}) };
}
