// Numbers as prompts write them, for the length-requirement parser: digits with thousands commas ("2,000"),
// a k suffix ("2k", "1.5k"), English number words ("two thousand", "fifteen hundred", "a thousand"), Chinese
// numerals ("八百", "两千", "三千五百", "三千五", "一万五千") and digits with a Chinese unit ("1.5万", "3千").
// Regex sources to embed in larger patterns, and the parser of what they match. Not a general number parser.

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
]; // prettier-ignore
const TENS = ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ENGLISH_VALUES = new Map<string, number>([
  ...ONES.map((w, i): [string, number] => [w, i]),
  ...TENS.map((w, i): [string, number] => [w, 20 + 10 * i]),
]);

const SMALL = `(?:${[...ONES].reverse().join('|')}|${TENS.join('|')})`;
/** English number words (at most 7, so a long run of them stays linear); start with a small number or "a", never "hundred". */
const ENGLISH = String.raw`\b(?:a|${SMALL})(?:[\s-]+(?:and[\s-]+)?(?:${SMALL}|hundred|thousand)){0,6}\b`;
/** Digits, optionally with thousands commas (or the no-break and thin spaces typesetting uses; not a plain space:
 *  "5 100-word poems" is five poems), a decimal part, and a k / 千 / 万 multiplier. */
const DIGITS = String.raw`(?<![\d.,A-Za-z])(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[\u00a0\u2009\u202f]\d{3})+|\d+)(?:\.\d+)?(?:\s?[kK](?![A-Za-z])|\s?[千万]|[wW](?=\s*(?:个)?字))?`;
/** Chinese numerals, starting with a digit character (so "千字文" and "几千字" are not numbers). */
const CHINESE = '(?<![几数多余零〇一二两三四五六七八九十百千万\\d])[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万]*';
/** A bare 千 / 万 / 百 before 字 and a length word ("千字左右", "万字长文", "近千字"), not a name ("千字文") nor "上千字". */
const CHINESE_BARE =
  '(?<![几数多余上成零〇一二两三四五六七八九十百千万\\d]\\s*)[百千万](?=(?:多|余|来)?(?:个)?字(?:左右|上下|以内|之内|以上|内|的|长文|短文|作文|文章|小说|随笔|散文|[，。,.；;！!？?\\s]|$))';

/** A regex source matching one written number, captured in the named group `name`. */
export function numberPattern(name: string): string {
  return `(?<${name}>${DIGITS}|${ENGLISH}|${CHINESE}|${CHINESE_BARE})`;
}

const CHINESE_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const CHINESE_UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

function parseChinese(text: string): number | null {
  let total = 0; // completed 万 groups
  let section = 0; // below 万
  let digit = 0;
  let lastUnit = 1; // the last unit seen, for "三千五" = 3500
  for (const ch of text) {
    if (ch in CHINESE_DIGITS) {
      digit = CHINESE_DIGITS[ch];
    } else if (ch in CHINESE_UNITS) {
      section += (digit || 1) * CHINESE_UNITS[ch];
      digit = 0;
      lastUnit = CHINESE_UNITS[ch];
    } else if (ch === '万') {
      total += (section + digit || 1) * 10000;
      section = 0;
      digit = 0;
      lastUnit = 10000;
    } else return null;
  }
  // a last digit straight after 百/千/万 abbreviates the next unit down: 三千五 = 3500, 两万五 = 25000
  const tail = /[百千万][一二两三四五六七八九]$/.test(text) ? (digit * lastUnit) / 10 : digit;
  return total + section + tail;
}

function parseEnglish(text: string): number | null {
  const tokens = text
    .toLowerCase()
    .split(/[\s-]+/)
    .filter((t) => t !== 'and');
  let total = 0;
  let current = 0;
  let sawNumber = false;
  for (const [i, t] of tokens.entries()) {
    if (t === 'a') {
      if (i !== 0) return null;
      // "a hundred", "a thousand"; in "a five-hundred-word essay" the article is not a number
      if (tokens[1] === 'hundred' || tokens[1] === 'thousand') current = 1;
    } else if (ENGLISH_VALUES.has(t)) {
      current += ENGLISH_VALUES.get(t) as number;
      sawNumber = true;
    } else if (i === 0 && (t === 'hundred' || t === 'thousand')) {
      return null; // "hundreds of words" is not a number; "a hundred" is
    } else if (t === 'hundred') {
      current = (current || 1) * 100;
      sawNumber = true;
    } else if (t === 'thousand') {
      total += (current || 1) * 1000;
      current = 0;
      sawNumber = true;
    } else return null;
  }
  return sawNumber ? total + current : null;
}

/** The value of a number matched by numberPattern, or null when the text is not one. */
export function parseWrittenNumber(text: string): number | null {
  const t = text.trim();
  const digits = /^((?:\d{1,3}(?:[,\u00a0\u2009\u202f]\d{3})+|\d+)(?:\.\d+)?)\s?([kK千万wW])?$/.exec(t);
  if (digits) {
    const value = Number(digits[1].replace(/[,\u00a0\u2009\u202f]/g, ''));
    const unit = digits[2] === undefined ? 1 : /[万wW]/.test(digits[2]) ? 10000 : 1000;
    return value * unit;
  }
  if (/^[零〇一二两三四五六七八九十百千万]+$/.test(t)) return parseChinese(t);
  if (/^[a-zA-Z\s-]+$/.test(t)) return parseEnglish(t);
  return null;
}
