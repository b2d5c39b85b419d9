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
  /** a requirement on each part ("500 words each", "每篇400字"), not on the whole answer */
  perPart: boolean;
  /** for a per-part mention, how many parts the prompt asks for, when it says ("five poems", "五篇", "3-5
   *  slogans": lo 3, hi 5): the whole answer's length is that many times the part's */
  parts?: PartCount;
  /** marked as the whole answer's length ("in total", "totaling", "总字数", "全文") */
  total: boolean;
  /** about one component of the answer ("title ... 20 words", "标题：20字以内", "开头200字") */
  component: boolean;
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

// "each should be", "every one of them with", "each of the 5 essays must be", "each chapter:", "each"
const PER_PART_BEFORE_EN =
  /\b(?:each|every)(?:\s+one)?(?:\s+of\s+(?:them|these|those|the(?:\s+[\w-]+){1,2}))?(?:\s+[a-z]+){0,2}(?:\s+(?:should\s+(?:be|have|contain)|must\s+(?:be|have|contain)|needs?\s+to\s+be|is|be|has|have|with|containing|having|of)|\s*:)?\s*$/i;
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
  const total = TOTAL_BEFORE_EN.test(before) || TOTAL_BEFORE_ZH.test(before) || TOTAL_AFTER_EN.test(after);
  return {
    perPart: !total && (PER_PART_BEFORE_EN.test(before) || PER_PART_BEFORE_ZH.test(before) || PER_PART_AFTER_EN.test(after)),
    total,
    component: COMPONENT_BEFORE.test(before),
  };
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
const ZH_CLASSIFIERS = '篇首章节段个封则条份部集幕期';
// the words after the count are looked at, not consumed, so "a set of five poems" still finds "five poems"
const COUNT_EN = rx(String.raw`${N}(?:${DASH_EN}${M})?(?=[\s-]+(?<rest>(?:[A-Za-z'-]+[ \t]+){0,3}[A-Za-z'-]+))`);
const COUNT_ZH = rx(String.raw`${N}(?:${DASH_ZH}${M})?\s*(?<cl>[${ZH_CLASSIFIERS}])(?=(?<noun>[\u4e00-\u9fff]{0,2}))`);

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
  const zh = /(?:每|各)一?(?<cl>[篇首章节段个封则条份部集幕期])(?<noun>[\u4e00-\u9fff]{0,2})[^，。；,;.!?！？\n]{0,10}$/u.exec(before);
  let best: PartCount | undefined;
  if (zh?.groups) {
    const { cl, noun } = zh.groups;
    COUNT_ZH.lastIndex = 0;
    for (let m = COUNT_ZH.exec(before); m !== null && m.index < zh.index; m = COUNT_ZH.exec(before)) {
      const g = m.groups ?? {};
      const count = countIn(g);
      const sameNoun = cl !== '个' || (noun.length > 0 && (g.noun ?? '').startsWith(noun.slice(0, 2)));
      if (count && g.cl === cl && sameNoun) best = { lo: count[0], hi: count[1], text: m[0], index: from + m.index };
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
      const marked = marks(prompt, m.index, end);
      const parts = marked.perPart ? partCount(prompt, m.index, end) : undefined;
      const base = { text: m[0], index: m.index, end, priority, ...marked, ...(parts && { parts }) };
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
  let mentions = findLengthMentions(prompt);
  if (mentions.some((m) => !m.component)) mentions = mentions.filter((m) => !m.component);
  const whole = mentions.filter((m) => !m.perPart);
  if (whole.length === 0) {
    const first = mentions[0];
    if (first?.parts === undefined) return null;
    const second = mentions[1];
    if (second?.parts !== undefined && second.parts.index === first.parts.index) {
      const pair = boundsPair(first, second);
      if (pair) return { range: rangeOf('range', pair[0], pair[1], first.parts), mentions: [first, second], parts: first.parts };
    }
    return { range: rangeOf(first.form, first.n, first.m, first.parts), mentions: [first], parts: first.parts };
  }
  mentions = whole.some((m) => m.total) ? whole.filter((m) => m.total) : whole;
  const [first, second] = mentions;
  const pair = second && boundsPair(first, second);
  if (pair) return { range: lengthRangeFor('range', pair[0], pair[1]), mentions: [first, second] };
  return { range: rangeOf(first.form, first.n, first.m), mentions: [first] };
}

/** [least, most] when an at-least and an at-most mention (either order) state a proper range, else null. */
function boundsPair(first: LengthMention, second: LengthMention): [number, number] | null {
  const forms = [first.form, second.form];
  if (first.form === second.form || !forms.every((f) => f === 'at-least' || f === 'at-most')) return null;
  const least = first.form === 'at-least' ? first.n : second.n;
  const most = first.form === 'at-most' ? first.n : second.n;
  return least < most ? [least, most] : null;
}
