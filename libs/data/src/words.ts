// Word counting with the benchmarks' convention: CJK characters (U+4E00..U+9FFF) + English words
// ([a-zA-Z]+ runs). A local copy for corpus statistics only, so the data lib does not need the tokenizer
// to describe a corpus; the rewards use the tokenizer lib's countWords (same convention).

export function countWords(text: string): number {
  const cjk = text.match(/[\u4E00-\u9FFF]/g);
  const en = text.match(/\b[a-zA-Z]+\b/g);
  return (cjk ? cjk.length : 0) + (en ? en.length : 0);
}
