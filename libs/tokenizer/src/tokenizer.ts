// A Hugging Face tokenizer.json with a byte-level BPE model, loaded and run in TypeScript: normalize, split on
// added tokens, pre-tokenize, BPE each pre-token (cached), post-process; decode through the byte alphabet.
// Ids equal @huggingface/tokenizers' for the supported components (parity tests); others fail at load.
// Not a trainer (train-bpe.ts) and not templates (templates.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '@lwz/core';
import { AddedTokenSplitter, parseAddedTokens, type AddedToken, type Segment } from './added-tokens';
import { BpeModel, type BpeModelJson } from './bpe';
import { BYTE_TO_CHAR, CHAR_TO_BYTE } from './byte-level';
import { buildNormalizer, buildPostProcessor, buildPreTokenizer, checkDecoder } from './components';
import type { Normalize, PostProcess, PreTokenize } from './components';
import { StreamDecoder } from './stream-decoder';
import { parseTokenizerConfig, type TokenizerConfig } from './tokenizer-config';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (e.g. Llama-3's BOS when its file has that template). Default true. */
  addSpecialTokens?: boolean;
  /**
   * Encode the text of added tokens marked special (`<|endoftext|>`, `<|im_start|>`) as plain text, as Hugging Face's
   * `split_special_tokens=True` does: for data, whose text may spell them (a document about chat formats) and must
   * not gain a document boundary or a turn marker from it. Non-special added tokens still match. Default false.
   */
  splitSpecialTokens?: boolean;
}

interface AddedTokenSplitters {
  raw: AddedTokenSplitter;
  normalized: AddedTokenSplitter;
}

export interface TokenizerOptions {
  /**
   * Receives each load-time warning (a split regex construct this engine approximates). Default: console.warn,
   * once per distinct message per process. The warnings are also kept in `Tokenizer.warnings`.
   */
  onWarning?: (message: string) => void;
}

const warnedOnce = new Set<string>();

function readTextFile(p: string, what: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    throw new UserError(`${p}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readJsonFile(p: string): unknown {
  const raw = readTextFile(p, 'tokenizer file');
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new UserError(`${p}: cannot read tokenizer file (${(e as Error).message})`);
  }
}

/** tokenizer_config.json beside `tokenizerPath` ({} without one), with chat_template.jinja there as its template. */
function rawConfigBeside(tokenizerPath: string): unknown {
  const configPath = join(dirname(tokenizerPath), 'tokenizer_config.json');
  const config = existsSync(configPath) ? readJsonFile(configPath) : {};
  const jinjaPath = join(dirname(tokenizerPath), CHAT_TEMPLATE_FILE);
  // the template file wins; a config that is not an object is left for parseTokenizerConfig to name
  return existsSync(jinjaPath) && config !== null && typeof config === 'object'
    ? { ...config, chat_template: readTextFile(jinjaPath, 'chat template') }
    : config;
}

/**
 * The tokenizer config that Tokenizer.fromFile(tokenizerPath) would hold (chat template, bos/eos names), without
 * reading and building the vocabulary: for a caller that needs only those (the GGUF export's chat template).
 */
export function readTokenizerConfig(tokenizerPath: string): TokenizerConfig {
  return parseTokenizerConfig(rawConfigBeside(tokenizerPath));
}

function warnOnce(message: string): void {
  if (warnedOnce.has(message)) return;
  warnedOnce.add(message);
  console.warn(`@lwz/tokenizer: ${message}`);
}

export interface DecodeOptions {
  /** Drop added tokens marked special. Default false. */
  skipSpecialTokens?: boolean;
}

type Json = Record<string, unknown>;

/** Where transformers >= 4.50 saves a checkpoint's chat template, beside tokenizer_config.json. */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

export class Tokenizer {
  readonly model: BpeModel;
  readonly addedTokens: readonly AddedToken[];
  readonly config: TokenizerConfig;
  /** what loading approximated (see TokenizerOptions.onWarning); empty for exactly supported files */
  readonly warnings: readonly string[];
  private readonly normalize: Normalize;
  private readonly preTokenize: PreTokenize;
  private readonly postProcess: PostProcess;
  /** added-token matching, on the raw text and on the normalized text */
  private readonly splitters: AddedTokenSplitters;
  private readonly idToString: string[] = [];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  private readonly bytesById: (Uint8Array | undefined)[] = [];
  private readonly encoder = new TextEncoder();

  constructor(json: unknown, config: unknown = {}, options: TokenizerOptions = {}) {
    if (json === null || typeof json !== 'object') throw new UserError('tokenizer.json: expected a JSON object');
    const spec = json as Json;
    if (!spec.model || typeof spec.model !== 'object') throw new UserError('tokenizer.json: missing "model"');
    this.model = new BpeModel(spec.model as BpeModelJson);
    this.normalize = buildNormalizer(spec.normalizer as Json | null);
    const pre = buildPreTokenizer(spec.pre_tokenizer as Json | null);
    if (!pre.byteLevel) {
      throw new UserError('tokenizer.json pre_tokenizer: a byte-level BPE needs a ByteLevel pre-tokenizer (none found)');
    }
    this.preTokenize = pre.run;
    this.warnings = pre.warnings;
    for (const w of pre.warnings) (options.onWarning ?? warnOnce)(w);
    this.postProcess = buildPostProcessor(spec.post_processor as Json | null);
    checkDecoder(spec.decoder as Json | null);
    const { tokens, raw } = parseAddedTokens(spec.added_tokens);
    this.addedTokens = tokens;
    this.splitters = {
      raw: new AddedTokenSplitter(raw.filter((t) => !t.normalized)),
      normalized: new AddedTokenSplitter(raw.filter((t) => t.normalized).map((t) => ({ ...t, content: this.normalize(t.content) }))),
    };
    for (const [token, id] of this.model.vocab) this.idToString[id] = token;
    for (const t of tokens) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t.id);
      this.idToString[t.id] = t.content;
    }
    this.config = parseTokenizerConfig(config);
  }

  /**
   * Load `tokenizer.json`, and `tokenizer_config.json` from the same directory when it exists; a
   * `chat_template.jinja` there (how transformers >= 4.50 saves the template) is the chat template.
   */
  static fromFile(path: string, options: TokenizerOptions = {}): Tokenizer {
    const json = readJsonFile(path);
    const config = rawConfigBeside(path);
    try {
      return new Tokenizer(json, config, options);
    } catch (e) {
      // the constructor's messages say "tokenizer.json ..." / "tokenizer_config.json ...": name the files read
      if (!(e instanceof UserError)) throw e;
      const configPath = join(dirname(path), 'tokenizer_config.json');
      for (const [name, file] of [
        ['tokenizer_config.json', configPath],
        ['tokenizer.json', path],
      ])
        if (e.message.startsWith(name)) throw new UserError(file + e.message.slice(name.length));
      throw new UserError(`${path}: ${e.message}`);
    }
  }

  /** Number of ids (the largest id + 1, added tokens included). */
  get vocabSize(): number {
    return this.idToString.length;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    const segments: Segment[] = [];
    const skipSpecial = options.splitSpecialTokens === true;
    this.splitters.raw.split(text, segments, skipSpecial);
    for (const seg of segments) {
      if (typeof seg === 'number') {
        ids.push(seg);
        continue;
      }
      const inner: Segment[] = [];
      this.splitters.normalized.split(this.normalize(seg), inner, skipSpecial);
      for (const part of inner) {
        if (typeof part === 'number') ids.push(part);
        else this.preTokenize(part, (piece) => this.pushPiece(piece, ids));
      }
    }
    return options.addSpecialTokens === false ? ids : this.postProcess(ids);
  }

  /** Forget cached pre-token results (benchmarks time cold encodes with it). */
  clearCache(): void {
    this.model.clearCache();
  }

  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, options));
  }

  private pushPiece(piece: string, ids: number[]): void {
    const word = this.model.encodeWord(piece);
    for (let i = 0; i < word.length; i++) ids.push(word[i]);
  }

  /** The vocab string of each id (byte-level characters, e.g. "Ġworld"; added tokens as their content). */
  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.idToToken(id) ?? this.badId(id));
  }

  idToToken(id: number): string | undefined {
    return this.idToString[id];
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.vocab.get(token);
  }

  isSpecial(id: number): boolean {
    return this.addedById.get(id)?.special === true;
  }

  /** The UTF-8 bytes an id stands for (added tokens: their content). */
  idBytes(id: number): Uint8Array {
    const hit = this.bytesById[id];
    if (hit) return hit;
    const token = this.idToString[id];
    if (token === undefined) this.badId(id);
    const added = this.addedById.get(id);
    const bytes = added ? this.encoder.encode(added.content) : tokenBytes(token, this.encoder);
    this.bytesById[id] = bytes;
    return bytes;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const stream = this.decodeStream(options);
    return stream.push(ids) + stream.flush();
  }

  /** A decoder fed ids piece by piece; it never splits a multi-byte UTF-8 character across chunks. */
  decodeStream(options: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder((id) => this.idBytes(id), options.skipSpecialTokens ? (id) => this.isSpecial(id) : () => false);
  }

  private badId(id: number): never {
    throw new UserError(`token id ${id} is outside this tokenizer's vocabulary (0..${this.vocabSize - 1})`);
  }
}

function tokenBytes(token: string, encoder: TextEncoder): Uint8Array {
  const out: number[] = [];
  for (const ch of token) {
    const c = ch.codePointAt(0) as number;
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    if (b >= 0 && BYTE_TO_CHAR[b] === ch) out.push(b);
    else out.push(...encoder.encode(ch)); // not in the byte alphabet: its own UTF-8
  }
  return Uint8Array.from(out);
}
