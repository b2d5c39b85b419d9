// Explicit length requirements in a prompt, read the way the paper's range judge is told to read them: only
// numbers attached to a word unit count ("5 tips in 800 words" -> 800; years, list sizes and "3 pages" do
// not), in English ("800 words", "a 1,200-word essay", "at least two thousand words", "500-800 words", "word
// count: 500") and Chinese ("800字", "不少于2000字", "两千字左右", "300到400字", "字数：1400左右", "300词").
// "N characters" is not a word count (a 280-character tweet is ~50 words) unless it says "Chinese characters";
// pages, paragraphs and sentences are not parsed (the length predictor handles those prompts). Negated bounds
// flip ("not less than" = at least), the length of given material ("the following 3,000-word article") or a
// change to it ("increase by 300 words") is not the answer's, and a per-part length counts times its parts.
import { numberPattern, parseWrittenNumber } from './numbers';
import { type LengthForm, type WordRange, lengthRangeFor } from './range-rule';

export interface LengthMention {
  form: LengthForm;
  /** the number written (for `range`, the first) */
  n: number;
  /** the second number of a range */
  m?: number;
  /** the matched text and its offset in the prompt */
  text: string;
  index: number;
  /** a requirement on each part ("500 words each", "每篇400字"), not on the whole answer */
  perPart: boolean;
  /** for a per-part mention, how many parts the prompt asks for, when it says ("five poems", "五篇", "3-5
   *  slogans": lo 3, hi 5): the whole answer's length is that many times the part's */
  parts?: PartCount;
  /** marked as the whole answer's length ("in total", "totaling", "总字数", "全文") */
  total: boolean;
  /** about one component of the answer ("title ... 20 words", "标题：20字以内", "开头200字") */
  component: boolean;
  /** the length of given material or a change to it ("summarise the following 3,000-word article", "这篇2000字的
   *  演讲稿", "increase by 300 words", "增加500字"), not the answer's: never counts */
  reference: boolean;
}

export interface PartCount {
  lo: number;
  hi: number;
  /** the matched count with its noun or classifier ("five poems", "五篇"), and its offset in the prompt */
  text: string;
  index: number;
}

export interface LengthRequirement {
  range: WordRange;
  /** the mentions that determined the range */
  mentions: LengthMention[];
  /** set when the range is a per-part length times the number of parts */
  parts?: PartCount;
}

/** Chinese classifiers of parts (五篇, 三首, 两章 ...): per-part marks (每篇) and part counts read the same list. */
const ZH_CLASSIFIERS = '篇首章节段个封则条份部集幕期';
const N = numberPattern('n');
const M = numberPattern('m');
const EN_UNIT = String.raw`(?:\s*-\s*|\s+)?(?:words?|Chinese\s+characters?)(?![A-Za-z])`;
// 字节 (bytes), 字幕 (subtitles), 字母 (letters), 十字架/十字路 ... are not length units
// 多 / 余 / 来 between the number and the unit ("1000多字", "1500余字", "3000来字") are read in findLengthMentions
const ZH_UNIT = String.raw`\s*(?:多|余|来)?\s*(?:个)?(?:汉字|中文字|字符|单词|字|词)(?![节幕母体典号样迹眼架路句段汇组])`;
const DASH_EN = String.raw`\s*(?:-to-|-|–|—|~|to)\s*`;
const DASH_ZH = String.raw`\s*(?:-|–|—|~|～|至|到)\s*`;

// A negated bound is the opposite one: "should not be less than 1000 words" is at least 1000, "不得低于3000字" at
// least 3000. The negated alternatives come first, so a match starts at the negation, not at the bound after it.
const NEG_EN = String.raw`(?:not|never|cannot|can't|don't|doesn't|shouldn't|mustn't|won't|isn't)\s+(?:be\s+|go\s+|run\s+|fall\s+|come\s+in\s+|write\s+|use\s+)?`;
const NEG_LESS_EN = String.raw`${NEG_EN}(?:less\s+than|fewer\s+than|shorter\s+than|under|below)`;
const NEG_MORE_EN = String.raw`${NEG_EN}(?:more\s+than|longer\s+than|exceed(?:ing)?|over|above|beyond)`;
const AT_LEAST_EN = String.raw`${NEG_LESS_EN}|no\s+shorter\s+than|longer\s+than|at\s+least|no\s+less\s+than|not\s+less\s+than|no\s+fewer\s+than|not\s+fewer\s+than|more\s+than|over|upwards\s+of|in\s+excess\s+of|exceed(?:ing|s)?|(?:a\s+)?minimum(?:\s+of)?|min\.?`;
const AT_MOST_EN = String.raw`${NEG_MORE_EN}|(?:be\s+)?limited\s+to|limit\s+(?:it|this|that|yourself|(?:your|the)\s+[a-z]+)\s+to|no\s+more\s+than|not\s+more\s+than|no\s+longer\s+than|not\s+(?:to\s+)?exceed(?:ing)?|at\s+most|under|fewer\s+than|less\s+than|up\s+to|(?:a\s+)?maximum(?:\s+of)?|max\.?|within|below|shorter\s+than`;
const ABOUT_EN = String.raw`about|around|roughly|approximately|approx\.?|circa|some|close\s+to|nearly|almost|~`;
const EXACT_EN = String.raw`exactly|precisely`;
const SUFFIX_EN = String.raw`or\s+(?:more|longer|above)|limit|minimum|at\s+(?:the\s+)?least|or\s+(?:less|fewer|under|shorter)|maximum|max|at\s+(?:the\s+)?most|or\s+so|give\s+or\s+take`;
const NEG_ZH = String.raw`(?:请)?不(?:得|能|应该|应|要|可|宜|会|准|许)?`;
const NOT_NEG_ZH = String.raw`(?<!不(?:得|能|应该|应|要|可|宜|会|准|许)?)`;
const AT_LEAST_ZH = String.raw`${NEG_ZH}(?:少于|低于|小于|短于)|至少|最少|最低|下限|起码|${NOT_NEG_ZH}(?:多于|超过|超出|大于|高于|长于)`;
const AT_MOST_ZH = String.raw`${NEG_ZH}(?:超过|超出|多于|大于|高于|长于)|最多|至多|上限|${NOT_NEG_ZH}(?:少于|低于|小于|短于)|不到|不足|限`;
const ABOUT_ZH = String.raw`大约|大概|大致|差不多|约为|约|接近|(?<![最附将])近`;
const SUFFIX_ZH = String.raw`及以上|或以上|以上|之上|起|\+|以内|之内|内|及以下|或以下|以下|之下|左右|上下`;
const QUAL_EN = `${AT_LEAST_EN}|${AT_MOST_EN}|${ABOUT_EN}|${EXACT_EN}`;
const QUAL_ZH = `${AT_LEAST_ZH}|${AT_MOST_ZH}|${ABOUT_ZH}`;
const GAP_ZH = String.raw`[^\d一二两三四五六七八九十\n，。；,;]{0,6}?`;

function formOf(qualifier: string | undefined): LengthForm {
  if (qualifier === undefined) return 'exact';
  const q = qualifier.replace(/\s+/g, ' ').toLowerCase();
  const test = (alternatives: string) => new RegExp(`^(?:${alternatives})$`, 'i').test(q);
  if (test(NEG_LESS_EN)) return 'at-least';
  if (test(NEG_MORE_EN)) return 'at-most';
  if (
    test(AT_LEAST_EN) ||
    test(AT_LEAST_ZH) ||
    /^(or (more|longer|above)|minimum|at (the )?least|\+|及以上|或以上|以上|之上|起)$/.test(q)
  ) {
    return 'at-least';
  }
  if (
    test(AT_MOST_EN) ||
    test(AT_MOST_ZH) ||
    /^(or (less|fewer|under|shorter)|maximum|max|at (the )?most|以内|之内|内|及以下|或以下|以下|之下|limit)$/.test(q)
  ) {
    return 'at-most';
  }
  if (test(EXACT_EN)) return 'exact';
  return 'about';
}

interface Pattern {
  /** lower runs first: a range beats a qualified mention beats a bare one over the same text */
  priority: number;
  re: RegExp;
  /** `q` and `q2` are opposite one-sided bounds on `n` and `m` ("at least 1000 and at most 1500 words") */
  bounds?: true;
  /** `a`, `b` and `u` are adjacent numerals with their unit: 两三千 = 2000-3000 */
  loose?: true;
}

const rx = (source: string) => new RegExp(source, 'giu');
const BOUND_GAP_EN = String.raw`\s*,?\s*(?:and|but|yet|or)?\s*`;
// one-sided suffixes that can follow either number of a pair
const BOUND_SUFFIX_EN = String.raw`minimum|min\.?|maximum|max\.?|at\s+(?:the\s+)?(?:least|most)`;
const BOUND_GAP_ZH = String.raw`\s*[，,、；;]?\s*(?:且|并且|而且|但|但是|同时)?\s*`;
const PATTERNS: Pattern[] = [
  // two opposite bounds where only one carries the unit: "at least 1000 and at most 1500 words", "至少1000，最多1500字"
  {
    priority: 0,
    bounds: true,
    re: rx(String.raw`(?<![A-Za-z])(?<q>${QUAL_EN})\s*${N}(?:${EN_UNIT})?${BOUND_GAP_EN}(?<q2>${QUAL_EN})\s*${M}${EN_UNIT}`),
  },
  {
    priority: 0,
    bounds: true,
    re: rx(
      String.raw`(?<![A-Za-z])(?<q>${QUAL_EN})\s*${N}${EN_UNIT}${BOUND_GAP_EN}(?<q2>${QUAL_EN})\s*${M}(?!\d|[.,]\d|\s*(?:%|percent|[A-Za-z]))`,
    ),
  },
  // the qualifiers after the numbers: "500 words minimum, 800 maximum", "1,500 words max, 1,000 min"
  {
    priority: 0,
    bounds: true,
    re: rx(
      String.raw`${N}${EN_UNIT}\s*,?\s*(?<q>${BOUND_SUFFIX_EN})${BOUND_GAP_EN}${M}(?:${EN_UNIT})?\s*,?\s*(?<q2>${BOUND_SUFFIX_EN})(?![A-Za-z])`,
    ),
  },
  {
    priority: 0,
    bounds: true,
    re: rx(String.raw`(?<q>${QUAL_ZH})\s*(?:为|在)?\s*${N}(?:${ZH_UNIT})?${BOUND_GAP_ZH}(?<q2>${QUAL_ZH})\s*${M}${ZH_UNIT}`),
  },
  {
    priority: 0,
    bounds: true,
    re: rx(String.raw`字数${GAP_ZH}(?<q>${QUAL_ZH})\s*${N}(?:${ZH_UNIT})?${BOUND_GAP_ZH}(?<q2>${QUAL_ZH})\s*${M}(?:${ZH_UNIT})?`),
  },
  {
    priority: 0,
    loose: true,
    re: rx(String.raw`(?<![一二两三四五六七八九十百千万几数])(?<a>[一二两三四五六七八])(?<b>[二三四五六七八九])(?<u>[十百千万])${ZH_UNIT}`),
  },
  {
    priority: 0,
    re: rx(
      String.raw`\bword[\s-]*(?:count|length|limit)\b[^\d\n]{0,30}?(?:between\s+)?${N}(?:${EN_UNIT})?(?:${DASH_EN}|\s+and\s+)${M}(?:${EN_UNIT})?`,
    ),
  },
  { priority: 0, re: rx(String.raw`between\s+${N}(?:${EN_UNIT})?\s+and\s+${M}${EN_UNIT}`) },
  { priority: 0, re: rx(String.raw`(?:from\s+)?${N}(?:${EN_UNIT})?${DASH_EN}${M}${EN_UNIT}`) },
  { priority: 0, re: rx(String.raw`(?:介于|在)?${N}(?:${ZH_UNIT})?(?:${DASH_ZH}|\s*[和与]\s*)${M}${ZH_UNIT}(?:之间)?`) },
  { priority: 0, re: rx(String.raw`字数${GAP_ZH}${N}(?:${ZH_UNIT})?${DASH_ZH}${M}`) },
  { priority: 1, re: rx(String.raw`(?<![A-Za-z])(?<q>${QUAL_EN})\s*${N}${EN_UNIT}(?:\s*,?\s*(?<q2>${SUFFIX_EN})(?![A-Za-z]))?`) },
  { priority: 1, re: rx(String.raw`${N}${EN_UNIT}\s*,?\s*(?<q2>${SUFFIX_EN})(?![A-Za-z])`) },
  { priority: 1, re: rx(String.raw`${N}\s*(?<q2>\+)${EN_UNIT}`) },
  { priority: 1, re: rx(String.raw`${N}\s*(?<q2>\+)${ZH_UNIT}`) },
  { priority: 1, re: rx(String.raw`\bword[\s-]*(?<q>limit)\b[^\d\n]{0,30}?${N}(?:${EN_UNIT})?`) },
  { priority: 1, re: rx(String.raw`(?<q>minimum|maximum|min\.?|max\.?)\s+word[\s-]*count\b(?:\s+of)?[^\d\n]{0,12}?${N}(?:${EN_UNIT})?`) },
  {
    priority: 1,
    re: rx(
      String.raw`\bword[\s-]*(?:count|length)\b[^\d\n]{0,30}?(?:(?<q>${QUAL_EN})\s*)?${N}(?:${EN_UNIT})?(?:\s*,?\s*(?<q2>${SUFFIX_EN})(?![A-Za-z]))?`,
    ),
  },
  { priority: 1, re: rx(String.raw`(?<q>${QUAL_ZH})\s*(?:为|在)?\s*${N}${ZH_UNIT}(?:\s*(?<q2>${SUFFIX_ZH}))?`) },
  { priority: 1, re: rx(String.raw`${N}${ZH_UNIT}\s*(?<q2>${SUFFIX_ZH})`) },
  { priority: 1, re: rx(String.raw`字数${GAP_ZH}(?:(?<q>${QUAL_ZH})\s*)?${N}(?:${ZH_UNIT})?(?:\s*(?<q2>${SUFFIX_ZH}))?`) },
  { priority: 2, re: rx(String.raw`(?<![A-Za-z])(?:(?<q>${EXACT_EN})\s+)?${N}${EN_UNIT}`) },
  { priority: 2, re: rx(String.raw`${N}${ZH_UNIT}`) },
];

// "each should be", "every one of them with", "each of the 5 essays must be", "each chapter:", "each line", "each",
// "explain each in"; not "each of the 3 policies in about 1500 words" (the whole answer covers every policy)
const PER_PART_BEFORE_EN =
  /\b(?:each|every)(?:\s+one)?(?:\s+of\s+(?:them|these|those|the(?:\s+[\w-]+){1,2}))?(?:(?:\s+[a-z]+){0,2}\s+(?:should\s+(?:be|have|contain)|must\s+(?:be|have|contain)|needs?\s+to\s+be|is|be|has|have|with|containing|having|of)|(?:\s+(?!(?:in|on|for|with|within|at|about|to|into|using|under|by|of|and|or)\b)[a-z]+)?\s*:?)(?:\s+(?:between|from))?\s*$|\b(?:each|every\s+one)\s+in\s*$/i;
const PER_PART_AFTER_EN = /^\s*(?:each|apiece|a\s+piece|per\s+[a-z]+|for\s+each\s+[a-z]+)\b/i;
// 每 / 各 with a classifier (每篇, 每一章, 每个, 每部分) or a verb (各写): not 每日, 各位, 各地
const PER_PART_BEFORE_ZH = new RegExp(
  String.raw`(?:(?:每|各)一?(?:个部分|部分|[${ZH_CLASSIFIERS}项题])|各(?:写|自|需|要))[^，。；,;.!?！？
\d]{0,10}$`,
);
const TOTAL_BEFORE_EN =
  /(?:\b(?:total(?:ing|ling)?|in\s+total|altogether|in\s+all)\b[^.;:!?\n]{0,40}|\b(?:whole|entire|overall)\s+(?:[a-z]+\s+)?(?:text|piece|essay|article|answer|response|story|report|document|post|speech|paper|length|word\s+count)\b[^.;:!?\n]{0,25})$/i;
const TOTAL_AFTER_EN = /^\s*(?:in\s+total|in\s+all|altogether|overall|total)\b/i;
// not 总结 or 公共: the whole-text words themselves, or 共 right before the number
const TOTAL_BEFORE_ZH =
  /(?:(?:总字数|总计|总共|总长度?|总篇幅|共计|一共|全文|整篇|全篇|通篇|合计)[^，。；,;.!?！？\n]{0,10}|(?<!公)共[约计]?\s*)$/;
// the component's own clause ("title: short, 20 words", "标题：简洁，20字以内"), not the next one after a comma
const COMPONENT_BEFORE =
  /(?:\b(?:title|headline|heading|subject\s+line|slogan|tagline|abstract|summary|introduction|intro|conclusion|opening|ending|caption|subtitle)\b|标题|题目|摘要|前言|引言|开头|结尾|结论|导语)(?:\s*[:：][^.;!?。；！？\n]{0,16}|[^.;:!?。；！？，,、\n]{0,16})$/i;
// the length of given material ("the following 3,000-word article", "这篇2000字的演讲稿", "these 10 words", "my
// novel is 80,000 words long", "这部小说共30万字") or a change to it ("increase by 300 words", "增加500字"): not the answer's length
const REFERENCE_BEFORE =
  /(?:\b(?:this|that|my|our|his|her|their)\s+(?:[\w'-]+\s+){0,3}?(?:is|was|has|runs|contains|spans|totals|comes\s+to)\s+(?:about|around|roughly|approximately|over|nearly|almost|some|under)?\s*|(?:这|该|此|本|原)(?:部|本|篇|份|段|首|章|册|套)?(?:(?!要|需|须|应|请|写|得)[\u4e00-\u9fff]){0,4}?(?:共计|共|长达|长约|全长|约有|约|有|计|达)\s*|\b(?:this|these|that|those|the\s+(?:following|above|attached|given|provided|original)|following|attached|provided|original|(?:below|here)\s+(?:is|are)\s+(?:a|an|my|our|the))\s+|\b(?:by|add(?:ing)?|an\s+additional|another|extra)\s+|(?:这篇|这份|这段|这|该|此|以下|下面(?:是)?(?:一篇|这篇)?|上面|上述|原文|原)\s*|(?:增加|增添|扩充|增补|多写|补充|删减|删去|减少|压缩)(?:了|约)?\s*)$/i;

// a count right before a per-part length: "three 500-word essays", "5 paragraphs of 100 words", "三篇500字的日记"
const COUNT_BEFORE_EN = new RegExp(
  String.raw`(?<![\w-])${numberPattern('n')}\s+(?:(?:[A-Za-z-]+\s+){0,2}?(?<noun>[A-Za-z]+s)\s+of\s+)?$`,
  'iu',
);
const COUNT_BEFORE_ZH = new RegExp(String.raw`${numberPattern('n')}\s*[${ZH_CLASSIFIERS}]\s*$`, 'u');

const SOME_BEFORE_EN = /\b(?:several|a\s+few|some|multiple|many|a\s+couple\s+of|a\s+series\s+of|a\s+set\s+of)\s+$/i;
const PLURAL_AFTER_EN = /^\s+(?:[A-Za-z-]+\s+){0,2}?[A-Za-z]+s\b/;

type Marks = Pick<LengthMention, 'perPart' | 'total' | 'component' | 'reference' | 'parts'>;

function marks(prompt: string, start: number, end: number): Marks {
  const before = prompt.slice(Math.max(0, start - 60), start);
  const after = prompt.slice(end, end + 30);
  const total = TOTAL_BEFORE_EN.test(before) || TOTAL_BEFORE_ZH.test(before) || TOTAL_AFTER_EN.test(after);
  const base = { total, component: COMPONENT_BEFORE.test(before), reference: REFERENCE_BEFORE.test(before) };
  if (total) return { ...base, perPart: false };
  const direct = directCount(before, after, start);
  if (direct) return { ...base, perPart: true, parts: direct };
  // "several 200-word reviews": per part, with no count
  if (SOME_BEFORE_EN.test(before) && PLURAL_AFTER_EN.test(after)) return { ...base, perPart: true };
  const perPart = PER_PART_BEFORE_EN.test(before) || PER_PART_BEFORE_ZH.test(before) || PER_PART_AFTER_EN.test(after);
  const parts = perPart ? partCount(prompt, start, end) : undefined;
  return { ...base, perPart, ...(parts && { parts }) };
}

/** A count written right before the mention, of parts it gives the length of ("three 500-word essays"). */
function directCount(before: string, after: string, start: number): PartCount | undefined {
  const en = COUNT_BEFORE_EN.exec(before);
  const zh = COUNT_BEFORE_ZH.exec(before);
  const m = en && (en.groups?.noun !== undefined || PLURAL_AFTER_EN.test(after)) ? en : zh;
  if (!m) return undefined;
  if (m === en && m.groups?.noun !== undefined && NOT_PARTS.has(m.groups.noun.toLowerCase())) return undefined;
  const count = countIn(m.groups ?? {});
  return count ? { lo: count[0], hi: count[1], text: m[0].trim(), index: start - before.length + m.index } : undefined;
}

// Part counts, for per-part mentions. English: the noun "each" / "every" / "per" names ("each poem", "per
// section") is found after a count before the mention ("five short poems"); when it names none ("500 words
// each", "each of about 100 words") the nearest count with a plural noun before it, in the same paragraph,
// that is not a unit or a span of time. Chinese: the classifier after 每 / 各 ("每篇") after a count ("五篇");
// the generic 个 also needs the same noun ("三个故事 ... 每个故事"). Counts from 2 to 100, up to 300 characters back.
const COUNT_BEHIND = 300;
const PART_WORD_STOP = new Set([
  'of', 'one', 'should', 'must', 'is', 'be', 'has', 'have', 'with', 'containing', 'having', 'needs', 'need', 'them',
  'these', 'those', 'the', 'a', 'an', 'will', 'can', 'around', 'about', 'at', 'in', 'no', 'not',
]); // prettier-ignore
const NOT_PARTS = new Set([
  'words', 'characters', 'chars', 'tokens', 'pages', 'years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds',
  'times', 'percent', 'dollars', 'people', 'persons', 'members', 'friends', 'students', 'children', 'steps',
]); // prettier-ignore
// the words after the count are looked at, not consumed, so "a set of five poems" still finds "five poems"
const COUNT_EN = rx(String.raw`${N}(?:${DASH_EN}${M})?(?=[\s-]+(?<rest>(?:[A-Za-z'-]+[ \t]+){0,3}[A-Za-z'-]+))`);
const COUNT_ZH = rx(String.raw`${N}(?:${DASH_ZH}${M})?\s*(?<cl>[${ZH_CLASSIFIERS}])(?=(?<noun>[\u4e00-\u9fff]{0,2}))`);

// 每篇 / 各一章 ... before the mention, with the noun after the classifier (每个故事)
const EACH_CLASSIFIER_ZH = new RegExp(
  String.raw`(?:每|各)一?(?<cl>[${ZH_CLASSIFIERS}])(?<noun>[一-鿿]{0,2})[^，。；,;.!?！？
]{0,10}$`,
  'u',
);
const COUNT_PARTS_ZH = rx(String.raw`${N}(?:${DASH_ZH}${M})?\s*(?:个)?(?:部分|方面|段|篇|章|节|首|封)`);
const pluralsOf = (noun: string) => new Set([`${noun}s`, `${noun}es`, noun.replace(/y$/, 'ies'), noun]);
const looksPlural = (word: string) => word.length > 3 && /[^s]s$/i.test(word) && !NOT_PARTS.has(word.toLowerCase());

function countIn(g: Record<string, string | undefined>): [number, number] | null {
  const lo = parseWrittenNumber(g.n ?? '');
  const hi = g.m === undefined ? lo : parseWrittenNumber(g.m);
  if (lo === null || hi === null || !Number.isInteger(lo) || !Number.isInteger(hi)) return null;
  return lo >= 2 && hi >= lo && hi <= 100 ? [lo, hi] : null;
}

/** The count of parts a per-part mention at [start, end) applies to, or undefined when the prompt states none. */
function partCount(prompt: string, start: number, end: number): PartCount | undefined {
  const from = Math.max(0, start - COUNT_BEHIND);
  const before = prompt.slice(from, start);
  const zh = EACH_CLASSIFIER_ZH.exec(before);
  let best: PartCount | undefined;
  // 各写 / 各自 name no classifier: the parts are a count of 部分 / 方面 / 段 ... ("分两部分写，各写1000字")
  const each = /各(?:写|自|需|要)[^，。；,;.!?！？\n]{0,10}$/u.exec(before);
  if (!zh && each) {
    for (const m of before.slice(0, each.index).matchAll(COUNT_PARTS_ZH)) {
      const count = countIn(m.groups ?? {});
      if (count) best = { lo: count[0], hi: count[1], text: m[0], index: from + (m.index ?? 0) };
    }
    return best;
  }
  if (zh?.groups) {
    const { cl, noun } = zh.groups;
    COUNT_ZH.lastIndex = 0;
    for (let m = COUNT_ZH.exec(before); m !== null && m.index < zh.index; m = COUNT_ZH.exec(before)) {
      const g = m.groups ?? {};
      const count = countIn(g);
      // 五篇 for 每篇; 三个故事 for 每个故事; 5个段落 for 每段, 三个部分 for 每部分
      const sameNoun = cl !== '个' || (noun.length > 0 && (g.noun ?? '').startsWith(noun.slice(0, 2)));
      const nounIsPart = g.cl === '个' && (g.noun ?? '').startsWith(cl);
      if (count && ((g.cl === cl && sameNoun) || nounIsPart)) best = { lo: count[0], hi: count[1], text: m[0], index: from + m.index };
    }
    return best;
  }
  const named =
    /\b(?:each|every)\s+(?:one\s+)?(?:of\s+(?:the|these|those|your)\s+)?(?<noun>[a-z]+)\b[^.;:!?\n]*$/i.exec(before)?.groups?.noun ??
    /^\s*(?:words?\s+)?(?:per|for\s+each|for\s+every)\s+(?<noun>[a-z]+)/i.exec(prompt.slice(end, end + 30))?.groups?.noun;
  const noun = named !== undefined && !PART_WORD_STOP.has(named.toLowerCase()) ? named.toLowerCase() : undefined;
  const paragraphStart = before.lastIndexOf('\n\n') + 1;
  COUNT_EN.lastIndex = 0;
  for (let m = COUNT_EN.exec(before); m !== null; m = COUNT_EN.exec(before)) {
    const g = m.groups ?? {};
    const count = countIn(g);
    if (!count || (noun === undefined && m.index < paragraphStart)) continue;
    const words = (g.rest ?? '').split(/[\s]+/).map((w) => w.toLowerCase());
    const hit = noun === undefined ? words.find(looksPlural) : words.find((w) => pluralsOf(noun).has(w));
    // the noun must follow the count before any other number or unit word ("5 tips in 800 words" is no count)
    if (hit !== undefined && !words.slice(0, words.indexOf(hit)).some((w) => NOT_PARTS.has(w))) {
      best = { lo: count[0], hi: count[1], text: m[0], index: from + m.index };
    }
  }
  return best;
}

/** Chinese numerals below 20 are left out: 十字路口, 八字, 一字一句 are idioms, not lengths. */
function plausible(numberText: string, value: number | null): value is number {
  if (value === null || !(value > 0)) return false;
  return !/^[零〇一二两三四五六七八九十百千万]+$/.test(numberText) || value >= 20;
}

const BOUND_JOIN = /^\s*,?\s*(?:and|but|or|yet|且|并且|而且|但|但是|，|、)?\s*$/i;

/** Full-width digits and dashes as ASCII ("８００字", "800－1000字"), one character for one, so offsets hold. */
function normalizeWidths(prompt: string): string {
  return prompt
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[－〜]/g, (c) => (c === '－' ? '-' : '～'));
}

/** The number a mention's `n` or `m` group wrote; a multiplier on the second number only carries to the first
 *  ("2-3k words" = 2000-3000, "1.5-2万字"), when that keeps n below m. */
function rangeNumbers(g: Record<string, string | undefined>): [number | null, number | null] {
  const n = parseWrittenNumber(g.n ?? '');
  const m = g.m === undefined ? null : parseWrittenNumber(g.m);
  const scale = secondOnlyScale(g.n ?? '', g.m ?? '', n);
  return n !== null && m !== null && scale !== undefined && n * scale <= m ? [n * scale, m] : [n, m];
}

/** The multiplier the second number of a range carries and the first lacks: "two-to-three thousand" (a small
 *  number word before "thousand" / "hundred"), "2-3k" (plain digits before k / 千 / 万 / w). */
function secondOnlyScale(first: string, second: string, n: number | null): number | undefined {
  const word = /\s(hundred|thousand)$/i.exec(second)?.[1];
  if (word !== undefined && /^[a-z\s-]+$/i.test(first) && n !== null && n < 100) return word.toLowerCase() === 'thousand' ? 1000 : 100;
  const unit = /\s?([kK千万wW])$/.exec(second)?.[1];
  if (unit !== undefined && /^\d+(?:\.\d+)?$/.test(first.trim())) return /[kK千]/.test(unit) ? 1000 : 10000;
  return undefined;
}

/** "a twenty-five word summary", "thirty-five hundred words": one number written with a hyphen, not a range. */
function hyphenatedNumber(matched: string, g: Record<string, string | undefined>): boolean {
  if (g.n === undefined || g.m === undefined || !/^[a-z\s-]+$/i.test(g.n + g.m)) return false;
  const gapStart = matched.indexOf(g.n) + g.n.length;
  return matched.slice(gapStart, matched.indexOf(g.m, gapStart)) === '-' && parseWrittenNumber(`${g.n}-${g.m}`) !== null;
}

/** Every length requirement in the prompt, in text order (overlapping readings resolved by priority). */
export function findLengthMentions(text: string): LengthMention[] {
  const prompt = normalizeWidths(text);
  const found: (LengthMention & { end: number; priority: number })[] = [];
  for (const { priority, re, bounds, loose } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(prompt); m !== null; m = re.exec(prompt)) {
      const g: Record<string, string | undefined> = { ...m.groups };
      if (loose) {
        // adjacent numerals one apart: 两三千 (2000, 3000), 三四百; and the idiom 三五 ("three or five": 三五千字 is
        // 3000-5000); not 二四千
        [g.n, g.m] = [`${g.a}${g.u}`, `${g.b}${g.u}`];
        const [a, b, step] = [g.n, g.m, `一${g.u}`].map(parseWrittenNumber);
        if (a === null || b === null || step === null || (b - a !== step && `${g.a}${g.b}` !== '三五')) continue;
      }
      if (hyphenatedNumber(m[0], g)) continue;
      const [n, second] = rangeNumbers(g);
      if (!plausible(g.n ?? '', n)) continue;
      const end = m.index + m[0].length;
      const base = { text: m[0], index: m.index, end, priority, ...marks(prompt, m.index, end) };
      if (bounds) {
        const forms = [formOf(g.q), formOf(g.q2)];
        if (second === null || !forms.includes('at-least') || !forms.includes('at-most')) continue;
        const [least, most] = forms[0] === 'at-least' ? [n, second] : [second, n];
        if (least < most) found.push({ ...base, form: 'range', n: least, m: most });
      } else if (g.m !== undefined) {
        if (plausible(g.m, second)) found.push({ ...base, form: 'range', n, m: second });
      } else {
        // 1000多字 / 1500余字: more than N; 3000来字: about N
        const odd =
          g.q === undefined && g.q2 === undefined ? /(多|余|来)\s*(?:个)?(?:汉字|中文字|字符|单词|字|词)/.exec(m[0])?.[1] : undefined;
        found.push({ ...base, form: odd === undefined ? formOf(g.q ?? g.q2) : odd === '来' ? 'about' : 'at-least', n });
      }
    }
  }
  found.sort((a, b) => a.priority - b.priority || a.index - b.index || b.end - b.index - (a.end - a.index));
  const kept: typeof found = [];
  for (const f of found) if (!kept.some((k) => f.index < k.end && k.index < f.end)) kept.push(f);
  kept.sort((a, b) => a.index - b.index);
  // the second bound of a per-part requirement is per part too: "each chapter at least 2,000 and at most 3,000 words"
  for (const [i, k] of kept.entries()) {
    const prev = kept[i - 1];
    if (prev?.perPart && !k.perPart && !k.total && BOUND_JOIN.test(prompt.slice(prev.end, k.index))) {
      k.perPart = true;
      if (prev.parts) k.parts = prev.parts;
    }
  }
  return kept.map(({ end: _end, priority: _priority, ...mention }) => mention);
}

/** The range of a mention's requirement, times a count of parts (the count times the stated number, then the rule). */
function rangeOf(form: LengthForm, n: number, m: number | undefined, parts: { lo: number; hi: number } = { lo: 1, hi: 1 }): WordRange {
  if (form === 'range') return lengthRangeFor('range', n * parts.lo, (m as number) * parts.hi);
  return [lengthRangeFor(form, n * parts.lo)[0], lengthRangeFor(form, n * parts.hi)[1]];
}

/**
 * The target range of a prompt's explicit requirement, or null when it states none. Precedence: a mention
 * about a component (title, abstract, 开头) counts only when it is the only kind of mention; a mention on the whole
 * answer beats per-part ones ("each", "每篇"); if some mention is marked as the total, only those count; then the
 * first wins (prompts state the whole length before breaking it into sections, and material quoted after the
 * instruction comes later), except that a one-sided bound followed by the opposite one ("at least 150 and no more
 * than 200 words") gives [least, most]. With per-part mentions only, the first counts when the prompt says how many
 * parts ("five poems, each about 100 words" -> about 500: [450, 550]; "3-5 slogans of 15-20 words each" -> [45,
 * 100]), else there is none. The range itself is lengthRangeFor's.
 */
export function parseLengthRequirement(prompt: string): LengthRequirement | null {
  let mentions = findLengthMentions(prompt).filter((m) => !m.reference);
  if (mentions.some((m) => !m.component)) mentions = mentions.filter((m) => !m.component);
  const whole = mentions.filter((m) => !m.perPart);
  // per-part mentions only: the first counts, times its parts, when the prompt says how many
  const perPartOnly = whole.length === 0;
  if (perPartOnly && mentions[0]?.parts === undefined) return null;
  const pool = perPartOnly ? mentions : whole.some((m) => m.total) ? whole.filter((m) => m.total) : whole;
  const [first, second] = pool;
  const parts = perPartOnly ? first.parts : undefined;
  // a per-part pair of bounds must be about the same parts
  const pair = second && (!perPartOnly || second.parts?.index === parts?.index) ? boundsPair(first, second) : null;
  const found = pair
    ? { range: rangeOf('range', pair[0], pair[1], parts), mentions: [first, second] }
    : { range: rangeOf(first.form, first.n, first.m, parts), mentions: [first] };
  return parts ? { ...found, parts } : found;
}

/** [least, most] when an at-least and an at-most mention (either order) state a proper range, else null. */
function boundsPair(first: LengthMention, second: LengthMention): [number, number] | null {
  const forms = [first.form, second.form];
  if (first.form === second.form || !forms.every((f) => f === 'at-least' || f === 'at-most')) return null;
  const least = first.form === 'at-least' ? first.n : second.n;
  const most = first.form === 'at-most' ? first.n : second.n;
  return least < most ? [least, most] : null;
}
