// The offline length predictor: a target range from prompt features, for prompts without an explicit length
// when no LLM assessor is configured. Page / paragraph / sentence counts first ("a 3-page essay"), else the
// genre named earliest in the prompt (a table of typical lengths: tweet, poem, email, essay, report, story,
// thesis, novel, ... in English and Chinese), scaled by "short"/"brief" (x0.5) or "detailed"/"in-depth"
// (x1.5), then snapped to the paper's rules. A heuristic, not a model: the paper asks an LLM for this.
import { hashString } from '@lwz/core';
import { numberPattern, parseWrittenNumber } from './numbers';
import type { LengthPredictor } from './predictor';
import { type RangeRules, PAPER_RANGE_RULES, snapToRules } from './predictor';
import type { WordRange } from './range-rule';

export interface GenreRange {
  /** regex source matched case-insensitively */
  pattern: string;
  range: WordRange;
}

/** Typical lengths in words; the earliest match in the prompt wins (ties: the longer match). */
export const GENRE_RANGES: readonly GenreRange[] = [
  { pattern: String.raw`\b(?:tweets?|slogans?|taglines?|headlines?|captions?|haikus?|mottos?)\b|标语|口号|广告语`, range: [0, 100] },
  { pattern: String.raw`\b(?:sonnets?|limericks?)\b`, range: [100, 200] },
  { pattern: String.raw`\b(?:poems?|lyrics|songs?)\b|诗歌|古诗|律诗|新诗|现代诗|一首|歌词`, range: [100, 400] },
  {
    pattern: String.raw`\b(?:product\s+descriptions?|bios?|definitions?|summary|summaries|abstracts?)\b|简介|摘要|留言`,
    range: [100, 300],
  },
  { pattern: String.raw`\b(?:e-?mails?)\b|邮件|短信`, range: [100, 400] },
  { pattern: String.raw`\b(?:memos?|cover\s+letters?|outlines?)\b|大纲|提纲`, range: [200, 600] },
  { pattern: String.raw`\b(?:letters?)\b|(?:书|来|感谢|求职|申请|推荐|公开|一封)信|信件`, range: [300, 800] },
  { pattern: String.raw`\b(?:diary|diaries|journal\s+entr(?:y|ies)|newsletters?)\b|日记`, range: [300, 800] },
  { pattern: String.raw`\b(?:news(?:\s+(?:reports?|stories|articles?))?|press\s+releases?)\b|新闻|报道|通讯稿`, range: [400, 1000] },
  {
    pattern: String.raw`\b(?:blog\s+posts?|blogs?|posts?(?!-)|columns?|op-eds?|reviews?)\b|博客|推文|公众号|书评|影评|读后感|观后感`,
    range: [500, 1200],
  },
  { pattern: String.raw`\b(?:speech(?:es)?|toasts?)\b|演讲|致辞|讲话稿|发言稿`, range: [600, 1500] },
  { pattern: String.raw`\b(?:essays?|articles?|compositions?)\b|作文|文章|散文|随笔`, range: [800, 1500] },
  { pattern: String.raw`\b(?:fables?|fairy\s+tales?|parables?)\b|童话|寓言`, range: [500, 1500] },
  { pattern: String.raw`\b(?:short\s+stor(?:y|ies))\b|短篇小说|微小说`, range: [1500, 4000] },
  { pattern: String.raw`\b(?:stor(?:y|ies)|tales?|narratives?)\b|故事`, range: [1000, 3000] },
  { pattern: String.raw`\b(?:lesson\s+plans?|proposals?|business\s+plans?)\b|教案|方案|策划|计划书`, range: [1000, 3000] },
  { pattern: String.raw`\b(?:reports?|analys[ie]s|case\s+stud(?:y|ies))\b|报告`, range: [1500, 3000] },
  { pattern: String.raw`\b(?:guides?|tutorials?|manuals?|handbooks?)\b|指南|教程|手册`, range: [1500, 3000] },
  { pattern: String.raw`\b(?:scripts?|screenplays?|stage\s+plays?)\b|剧本`, range: [1500, 4000] },
  { pattern: String.raw`\b(?:chapters?)\b|第[一二三四五六七八九十\d]+章|章节`, range: [2000, 5000] },
  { pattern: String.raw`\b(?:literature\s+reviews?|surveys?)\b|文献综述|综述`, range: [2000, 5000] },
  { pattern: String.raw`\b(?:research\s+papers?|papers?|white\s*papers?)\b|论文|白皮书`, range: [3000, 6000] },
  { pattern: String.raw`\b(?:theses|thesis|dissertations?|novellas?)\b|毕业论文|中篇小说`, range: [6000, 9000] },
  { pattern: String.raw`\b(?:novels?|books?)\b|小说|长篇`, range: [9000, 12000] },
];

export interface BuiltinPredictorOptions {
  rules: RangeRules;
  /** when no feature matches */
  defaultRange: WordRange;
  /** words per page, paragraph and sentence for "N pages" / "N paragraphs" / "N sentences" */
  wordsPerPage: number;
  wordsPerParagraph: number;
  wordsPerSentence: number;
  /** multiplier for "short"/"brief"/"简短" and for "detailed"/"in-depth"/"详细" */
  shortFactor: number;
  detailedFactor: number;
}

export const DEFAULT_BUILTIN_PREDICTOR_OPTIONS: BuiltinPredictorOptions = {
  rules: PAPER_RANGE_RULES,
  defaultRange: [500, 1500],
  wordsPerPage: 300,
  wordsPerParagraph: 120,
  wordsPerSentence: 20,
  shortFactor: 0.5,
  detailedFactor: 1.5,
};

const COUNTED_UNITS = new RegExp(
  String.raw`${numberPattern('n')}(?:\s*-\s*|\s+)?(?<unit>pages?|paragraphs?|sentences?)\b|${numberPattern('z')}\s*(?:个)?(?<zunit>页|段|句)`,
  'iu',
);
const SHORT = /\b(?:short(?!\s+stor)|brief|concise|quick|succinct|little)\b|简短|简要|简单|短小|精炼/i;
const DETAILED = /\b(?:detailed|comprehensive|in-depth|thorough|extensive|elaborate|long|lengthy|exhaustive)\b|详细|深入|全面|长篇|详尽/i;
const GENRES = GENRE_RANGES.map((g) => ({ re: new RegExp(g.pattern, 'iu'), range: g.range }));

/** The range the built-in predictor gives one prompt (always within the rules; never [0, 0]). */
export function predictRangeFromFeatures(prompt: string, options: Partial<BuiltinPredictorOptions> = {}): WordRange {
  const o = { ...DEFAULT_BUILTIN_PREDICTOR_OPTIONS, ...options };
  const counted = COUNTED_UNITS.exec(prompt);
  if (counted?.groups) {
    const g = counted.groups;
    const n = parseWrittenNumber(g.n ?? g.z);
    const unit = (g.unit ?? g.zunit).toLowerCase();
    const per = /^(?:page|页)/.test(unit) ? o.wordsPerPage : /^(?:paragraph|段)/.test(unit) ? o.wordsPerParagraph : o.wordsPerSentence;
    if (n !== null && n > 0) return snapToRules(0.8 * n * per, 1.2 * n * per, o.rules);
  }
  let best: { index: number; length: number; range: WordRange } | null = null;
  for (const g of GENRES) {
    const m = g.re.exec(prompt);
    if (m && (!best || m.index < best.index || (m.index === best.index && m[0].length > best.length))) {
      best = { index: m.index, length: m[0].length, range: g.range };
    }
  }
  const [lo, hi] = best?.range ?? o.defaultRange;
  const factor = SHORT.test(prompt) ? o.shortFactor : DETAILED.test(prompt) ? o.detailedFactor : 1;
  return snapToRules(lo * factor, hi * factor, o.rules);
}

/** The offline LengthPredictor: predictRangeFromFeatures for each prompt. */
export function createBuiltinLengthPredictor(options: Partial<BuiltinPredictorOptions> = {}): LengthPredictor {
  const o = { ...DEFAULT_BUILTIN_PREDICTOR_OPTIONS, ...options };
  return {
    id: `builtin-features/1@${hashString(JSON.stringify(o)).toString(16)}`,
    predict: async (prompts) => prompts.map((p) => ({ range: predictRangeFromFeatures(p, o) })),
  };
}
