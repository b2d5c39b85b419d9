// Explicit length requirements in a prompt, read the way the paper's range judge is told to read them: only
// numbers attached to a word unit count ("5 tips in 800 words" -> 800; years, list sizes and "3 pages" do
// not), in English ("800 words", "a 1,200-word essay", "at least two thousand words", "500-800 words", "word
// count: 500") and Chinese ("800字", "不少于2000字", "两千字左右", "300到400字", "字数：1400左右", "300词").
// "N characters" is not a word count (a 280-character tweet is ~50 words) unless it says "Chinese characters";
// pages, paragraphs and sentences are not parsed (the length predictor handles those prompts).
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
  /** a requirement on each part ("500 words each", "每篇400字"), not on the whole answer: not counted */
  perPart: boolean;
  /** marked as the whole answer's length ("in total", "totaling", "总字数", "全文") */
  total: boolean;
  /** about one component of the answer ("title ... 20 words", "标题：20字以内", "开头200字") */
  component: boolean;
}

export interface LengthRequirement {
  range: WordRange;
  /** the mentions that determined the range (the per-part ones left out) */
  mentions: LengthMention[];
}

const N = numberPattern('n');
const M = numberPattern('m');
const EN_UNIT = String.raw`(?:\s*-\s*|\s+)?(?:words?|Chinese\s+characters?)(?![A-Za-z])`;
// 字节 (bytes), 字幕 (subtitles), 字母 (letters), 十字架/十字路 ... are not length units
const ZH_UNIT = String.raw`\s*(?:个)?(?:汉字|中文字|字符|字|词)(?![节幕母体典号样迹眼架路句段汇组])`;
const DASH_EN = String.raw`\s*(?:-|–|—|~|to)\s*`;
const DASH_ZH = String.raw`\s*(?:-|–|—|~|～|至|到)\s*`;

const AT_LEAST_EN = String.raw`at\s+least|no\s+less\s+than|not\s+less\s+than|no\s+fewer\s+than|not\s+fewer\s+than|more\s+than|over|upwards\s+of|in\s+excess\s+of|exceed(?:ing|s)?|(?:a\s+)?minimum(?:\s+of)?|min\.?`;
const AT_MOST_EN = String.raw`no\s+more\s+than|not\s+more\s+than|no\s+longer\s+than|not\s+(?:to\s+)?exceed(?:ing)?|at\s+most|under|fewer\s+than|less\s+than|up\s+to|(?:a\s+)?maximum(?:\s+of)?|max\.?|within|below|shorter\s+than`;
const ABOUT_EN = String.raw`about|around|roughly|approximately|approx\.?|circa|some|close\s+to|nearly|almost|~`;
const EXACT_EN = String.raw`exactly|precisely`;
const SUFFIX_EN = String.raw`or\s+(?:more|longer|above)|minimum|at\s+(?:the\s+)?least|or\s+(?:less|fewer|under|shorter)|maximum|max|at\s+(?:the\s+)?most|or\s+so|give\s+or\s+take`;
const AT_LEAST_ZH = String.raw`不少于|不低于|不得少于|不能少于|不应少于|不可少于|至少|最少|起码|(?<!不)多于|(?<!不)超过|大于|高于`;
const AT_MOST_ZH = String.raw`不超过|不多于|不得超过|不能超过|不要超过|不可超过|不宜超过|最多|至多|(?<!不)少于|不到|不足|低于|小于|限`;
const ABOUT_ZH = String.raw`大约|大概|大致|差不多|约为|约`;
const SUFFIX_ZH = String.raw`及以上|或以上|以上|之上|起|以内|之内|内|及以下|或以下|以下|之下|左右|上下`;
const QUAL_EN = `${AT_LEAST_EN}|${AT_MOST_EN}|${ABOUT_EN}|${EXACT_EN}`;
const QUAL_ZH = `${AT_LEAST_ZH}|${AT_MOST_ZH}|${ABOUT_ZH}`;
const GAP_ZH = String.raw`[^\d一二两三四五六七八九十\n，。；,;]{0,6}?`;

function formOf(qualifier: string | undefined): LengthForm {
  if (qualifier === undefined) return 'exact';
  const q = qualifier.replace(/\s+/g, ' ').toLowerCase();
  const test = (alternatives: string) => new RegExp(`^(?:${alternatives})$`, 'i').test(q);
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
}

const rx = (source: string) => new RegExp(source, 'giu');
const PATTERNS: Pattern[] = [
  { priority: 0, re: rx(String.raw`between\s+${N}(?:${EN_UNIT})?\s+and\s+${M}${EN_UNIT}`) },
  { priority: 0, re: rx(String.raw`(?:from\s+)?${N}(?:${EN_UNIT})?${DASH_EN}${M}${EN_UNIT}`) },
  { priority: 0, re: rx(String.raw`(?:介于|在)?${N}(?:${ZH_UNIT})?(?:${DASH_ZH}|\s*[和与]\s*)${M}${ZH_UNIT}(?:之间)?`) },
  { priority: 0, re: rx(String.raw`字数${GAP_ZH}${N}(?:${ZH_UNIT})?${DASH_ZH}${M}`) },
  { priority: 1, re: rx(String.raw`(?<![A-Za-z])(?<q>${QUAL_EN})\s*${N}${EN_UNIT}(?:\s*,?\s*(?<q2>${SUFFIX_EN})(?![A-Za-z]))?`) },
  { priority: 1, re: rx(String.raw`${N}${EN_UNIT}\s*,?\s*(?<q2>${SUFFIX_EN})(?![A-Za-z])`) },
  { priority: 1, re: rx(String.raw`${N}\s*(?<q2>\+)${EN_UNIT}`) },
  { priority: 1, re: rx(String.raw`\bword\s*(?<q>limit)\b[^\d\n]{0,12}?${N}(?:${EN_UNIT})?`) },
  { priority: 1, re: rx(String.raw`\bword\s*(?:count|length)\b[^\d\n]{0,12}?(?:(?<q>${QUAL_EN})\s*)?${N}(?:${EN_UNIT})?`) },
  { priority: 1, re: rx(String.raw`(?<q>${QUAL_ZH})\s*(?:为|在)?\s*${N}${ZH_UNIT}(?:\s*(?<q2>${SUFFIX_ZH}))?`) },
  { priority: 1, re: rx(String.raw`${N}${ZH_UNIT}\s*(?<q2>${SUFFIX_ZH})`) },
  { priority: 1, re: rx(String.raw`字数${GAP_ZH}(?:(?<q>${QUAL_ZH})\s*)?${N}(?:${ZH_UNIT})?(?:\s*(?<q2>${SUFFIX_ZH}))?`) },
  { priority: 2, re: rx(String.raw`(?<![A-Za-z])(?:(?<q>${EXACT_EN})\s+)?${N}${EN_UNIT}`) },
  { priority: 2, re: rx(String.raw`${N}${ZH_UNIT}`) },
];

const PER_PART_BEFORE_EN =
  /\b(?:each|every)(?:\s+one)?(?:\s+of\s+(?:them|these|those|the\s+[a-z]+))?(?:\s+[a-z]+){0,2}\s+(?:should\s+(?:be|have|contain)|must\s+(?:be|have|contain)|needs?\s+to\s+be|is|be|has|have|with|containing|having|of)\s*$/i;
const PER_PART_AFTER_EN = /^\s*(?:each|apiece|a\s+piece|per\s+[a-z]+|for\s+each\s+[a-z]+)\b/i;
const PER_PART_BEFORE_ZH = /(?:每|各)[^，。；,;.!?！？\n\d]{0,10}$/;
const TOTAL_BEFORE_EN = /\b(?:total(?:ing|ling)?|in\s+total|overall|altogether|in\s+all|entire|whole)\b[^.;:!?\n]{0,40}$/i;
const TOTAL_AFTER_EN = /^\s*(?:in\s+total|in\s+all|altogether|overall|total)\b/i;
const TOTAL_BEFORE_ZH = /(?:总|共|全文|整篇|合计|一共)[^，。；,;.!?！？\n]{0,10}$/;
const COMPONENT_BEFORE =
  /(?:\b(?:title|headline|heading|subject\s+line|slogan|tagline|abstract|summary|introduction|intro|conclusion|opening|ending|caption|subtitle)\b|标题|题目|摘要|前言|引言|开头|结尾|结论|导语)[^.;:!?。；！？\n]{0,16}$/i;

function marks(prompt: string, start: number, end: number): Pick<LengthMention, 'perPart' | 'total' | 'component'> {
  const before = prompt.slice(Math.max(0, start - 60), start);
  const after = prompt.slice(end, end + 30);
  return {
    perPart: PER_PART_BEFORE_EN.test(before) || PER_PART_BEFORE_ZH.test(before) || PER_PART_AFTER_EN.test(after),
    total: TOTAL_BEFORE_EN.test(before) || TOTAL_BEFORE_ZH.test(before) || TOTAL_AFTER_EN.test(after),
    component: COMPONENT_BEFORE.test(before),
  };
}

/** Chinese numerals below 20 are left out: 十字路口, 八字, 一字一句 are idioms, not lengths. */
function plausible(numberText: string, value: number | null): value is number {
  if (value === null || !(value > 0)) return false;
  return !/^[零〇一二两三四五六七八九十百千万]+$/.test(numberText) || value >= 20;
}

/** Every length requirement in the prompt, in text order (overlapping readings resolved by priority). */
export function findLengthMentions(prompt: string): LengthMention[] {
  const found: (LengthMention & { end: number; priority: number })[] = [];
  for (const { priority, re } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(prompt); m !== null; m = re.exec(prompt)) {
      const g = m.groups ?? {};
      const n = parseWrittenNumber(g.n);
      if (!plausible(g.n, n)) continue;
      const end = m.index + m[0].length;
      const base = { text: m[0], index: m.index, end, priority, ...marks(prompt, m.index, end) };
      if (g.m !== undefined) {
        const second = parseWrittenNumber(g.m);
        if (plausible(g.m, second)) found.push({ ...base, form: 'range', n, m: second });
      } else {
        found.push({ ...base, form: formOf(g.q ?? g.q2), n });
      }
    }
  }
  found.sort((a, b) => a.priority - b.priority || a.index - b.index || b.end - b.index - (a.end - a.index));
  const kept: typeof found = [];
  for (const f of found) if (!kept.some((k) => f.index < k.end && k.index < f.end)) kept.push(f);
  kept.sort((a, b) => a.index - b.index);
  return kept.map(({ end: _end, priority: _priority, ...mention }) => mention);
}

/**
 * The target range of a prompt's explicit requirement, or null when it states none. Precedence: a mention
 * about a component (title, abstract, 开头) counts only when it is the only kind of mention; per-part mentions
 * ("each", "每篇") never count; if some mention is marked as the total, only those count; then the first wins (prompts state the whole length before breaking it into sections, and material quoted
 * after the instruction comes later), except that a one-sided bound followed by the opposite one ("at least
 * 150 and no more than 200 words") gives [least, most]. The range itself is lengthRangeFor's.
 */
export function parseLengthRequirement(prompt: string): LengthRequirement | null {
  let mentions = findLengthMentions(prompt);
  if (mentions.some((m) => !m.component)) mentions = mentions.filter((m) => !m.component);
  mentions = mentions.filter((m) => !m.perPart);
  if (mentions.some((m) => m.total)) mentions = mentions.filter((m) => m.total);
  if (mentions.length === 0) return null;
  const [first, second] = mentions;
  if (second && first.form !== second.form && [first.form, second.form].every((f) => f === 'at-least' || f === 'at-most')) {
    const least = first.form === 'at-least' ? first.n : second.n;
    const most = first.form === 'at-most' ? first.n : second.n;
    if (least < most) return { range: lengthRangeFor('range', least, most), mentions: [first, second] };
  }
  return { range: lengthRangeFor(first.form, first.n, first.m), mentions: [first] };
}
