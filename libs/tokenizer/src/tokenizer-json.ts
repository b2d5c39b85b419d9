// Write a trained byte-level BPE as the standard Hugging Face files: tokenizer.json (Qwen2-style pipeline: NFC,
// Qwen2 split regex, ByteLevel) and tokenizer_config.json (special tokens, eos/pad, a ChatML chat template).
// Plain objects only; the CLI writes them atomically.
import { END_OF_TEXT, TURN_END, TURN_START } from './special-tokens';
import { QWEN2_SPLIT_PATTERN } from './split-pattern';
import type { TrainedBpe } from './train-bpe';

/** Our ChatML chat template in Jinja (renders exactly what renderChatML renders). */
export const CHATML_CHAT_TEMPLATE =
  `{%- for message in messages %}{{- '${TURN_START}' + message['role'] + '\\n' + message['content'] + '${TURN_END}\\n' }}{%- endfor %}` +
  `{%- if add_generation_prompt %}{{- '${TURN_START}assistant\\n' }}{%- endif %}`;

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

function addedTokens(trained: TrainedBpe): { id: number; content: string; special: boolean }[] {
  return trained.specialTokens.map((s, i) => ({ id: trained.vocab.length + i, content: s.content, special: s.special }));
}

export function toTokenizerJson(trained: TrainedBpe): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(trained).map((t) => ({
      id: t.id,
      content: t.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: t.special,
    })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN2_SPLIT_PATTERN }, behavior: 'Isolated', invert: false }, BYTE_LEVEL],
    },
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(trained.vocab.map((t, i) => [t, i])),
      merges: trained.merges,
    },
  };
}

export function toTokenizerConfig(trained: TrainedBpe): Record<string, unknown> {
  const added = addedTokens(trained);
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      added.map((t) => [
        String(t.id),
        { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: t.special },
      ]),
    ),
    additional_special_tokens: added.filter((t) => t.special).map((t) => t.content),
    bos_token: null,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    clean_up_tokenization_spaces: false,
    split_special_tokens: false,
    model_max_length: 131072,
    tokenizer_class: 'PreTrainedTokenizerFast',
    chat_template: CHATML_CHAT_TEMPLATE,
  };
}
