// Explicit length requirements, table-driven: every English and Chinese form, the number spellings, the
// words that are not lengths, and the precedence between several mentions. Expected ranges are written out
// from the rule (exact/about N -> [0.9N, 1.1N], at least -> [N, 1.1N], at most -> [0.9N, N], N..M -> [N, M]).
import { parseWrittenNumber } from './numbers';
import { lengthRangeFor } from './range-rule';
import { findLengthMentions, parseLengthRequirement } from './requirement';

const range = (prompt: string) => parseLengthRequirement(prompt)?.range ?? null;

describe('parseWrittenNumber', () => {
  it.each([
    ['800', 800],
    ['2,000', 2000],
    ['10,000', 10000],
    ['1.5k', 1500],
    ['2K', 2000],
    ['two thousand', 2000],
    ['fifteen hundred', 1500],
    ['a thousand', 1000],
    ['one hundred and fifty', 150],
    ['twenty-five', 25],
    ['two thousand five hundred', 2500],
    ['八百', 800],
    ['两千', 2000],
    ['三千五百', 3500],
    ['三千五', 3500],
    ['三千零五', 3005],
    ['一万五千', 15000],
    ['两万五', 25000],
    ['十五', 15],
    ['二十', 20],
    ['1.5万', 15000],
    ['3千', 3000],
    // a last digit after 百 abbreviates the tens too: 八百五 = 八百五十
    ['八百五', 850],
  ])('%s = %d', (text, value) => {
    expect(parseWrittenNumber(text)).toBe(value);
  });

  it.each(['a', 'hundred', 'words', '', '12abc'])('%j is not a number', (text) => {
    expect(parseWrittenNumber(text)).toBeNull();
  });
});

describe('lengthRangeFor (the one rule)', () => {
  it.each([
    ['exact', 500, undefined, [450, 550]],
    ['about', 150, undefined, [135, 165]],
    ['at-least', 500, undefined, [500, 550]],
    ['at-most', 500, undefined, [450, 500]],
    ['range', 800, 500, [500, 800]],
    ['about', 125, undefined, [113, 138]],
  ] as const)('%s %d %s -> %j', (form, n, m, expected) => {
    expect(lengthRangeFor(form, n, m)).toEqual(expected);
  });

  it('refuses a range without its second number and negative lengths', () => {
    expect(() => lengthRangeFor('range', 500)).toThrow(/two word counts/);
    expect(() => lengthRangeFor('exact', -1)).toThrow(/non-negative/);
  });

  it('takes a length of 0 as the [0, 0] that cannot be met, not as an error', () => {
    expect(lengthRangeFor('exact', 0)).toEqual([0, 0]);
    expect(lengthRangeFor('range', 0, 0)).toEqual([0, 0]);
  });
});

describe('parseLengthRequirement: English', () => {
  it.each([
    ['Write a 500-word essay about the sea.', [450, 550]],
    ['Write a 500 word essay.', [450, 550]],
    ['Write 500 words on tariffs.', [450, 550]],
    ['Write exactly 500 words.', [450, 550]],
    ['Describe the sun in approximately 150 words.', [135, 165]],
    ['A story of about 800 words.', [720, 880]],
    ['Around 600 words, please.', [540, 660]],
    ['Roughly 1,200 words long.', [1080, 1320]],
    ['Write ~300 words.', [270, 330]],
    ['Write 500 words or so.', [450, 550]],
    ['No more than 200 words.', [180, 200]],
    ['Keep it under 300 words.', [270, 300]],
    ['At most 400 words.', [360, 400]],
    ['In fewer than 100 words.', [90, 100]],
    ['In less than 100 words.', [90, 100]],
    ['Up to 250 words.', [225, 250]],
    ['A maximum of 700 words.', [630, 700]],
    ['Maximum 700 words.', [630, 700]],
    ['Write 120 words or less.', [108, 120]],
    ['Not exceeding 900 words.', [810, 900]],
    ['Word limit: 300.', [270, 300]],
    ['It should be at least 400 words long.', [400, 440]],
    ['The content should be no less than 200 words.', [200, 220]],
    ['Of no fewer than 1000 words.', [1000, 1100]],
    ['A text of more than 5000 words.', [5000, 5500]],
    ['A minimum of 800 words.', [800, 880]],
    ['Minimum 800 words.', [800, 880]],
    ['Write 2000+ words.', [2000, 2200]],
    ['Write 600 words or more.', [600, 660]],
    ['Between 500 and 800 words.', [500, 800]],
    ['A 300-500 word summary.', [300, 500]],
    ['Write 1,500–2,000 words.', [1500, 2000]],
    ['Write 500 to 700 words.', [500, 700]],
    ['From 400 to 600 words.', [400, 600]],
    ['Write two thousand words about whales.', [1800, 2200]],
    ['Write fifteen hundred words.', [1350, 1650]],
    ['At least a thousand words.', [1000, 1100]],
    ['A 2k-word report.', [1800, 2200]],
    ['The story should be at least 6,000 words long.', [6000, 6600]],
    ['Word count: approximately 1500 words.', [1350, 1650]],
    ['Write 300 Chinese characters about tea.', [270, 330]],
  ])('%j -> %j', (prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });
});

describe('parseLengthRequirement: Chinese', () => {
  it.each([
    ['写一篇800字的作文', [720, 880]],
    ['法真简介，200字左右', [180, 220]],
    ['写一篇约2000字的文章', [1800, 2200]],
    ['大概3000字', [2700, 3300]],
    ['1000字上下', [900, 1100]],
    ['不少于600字', [600, 660]],
    ['至少3000字', [3000, 3300]],
    ['文章字数不低于1500字', [1500, 1650]],
    ['400字以上', [400, 440]],
    ['篇幅在2400字以上', [2400, 2640]],
    ['不超过500字', [450, 500]],
    ['200字以内', [180, 200]],
    ['300字以下', [270, 300]],
    ['100至200字', [100, 200]],
    ['300到400字', [300, 400]],
    ['500-800字', [500, 800]],
    ['3000～4000字', [3000, 4000]],
    ['字数要求：2000左右', [1800, 2200]],
    ['讲稿字数1400左右', [1260, 1540]],
    ['字数：不少于3000字。', [3000, 3300]],
    ['字数在3000-4000之间', [3000, 4000]],
    ['写一篇300词的英语作文', [270, 330]],
    ['扩写到八百字', [720, 880]],
    ['写一份两千字的教案', [1800, 2200]],
    ['三千五百字的小说', [3150, 3850]],
    ['写一篇一万字的报告', [9000, 11000]],
    ['1.5万字的论文', [13500, 16500]],
    ['（10000字中文）', [9000, 11000]],
    // 20 is the smallest Chinese-numeral length taken (below it: idioms such as 十字路口)
    ['用二十字概括这个故事', [18, 22]],
  ])('%j -> %j', (prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });
});

describe('numbers that are not length requirements', () => {
  it.each([
    'Write a story set in 1982 about 5 friends.',
    'Give me 5 tips for writing.',
    'Write a 3-page essay.',
    'Write five paragraphs about tea.',
    'A tweet under 280 characters.',
    '出10道关于历史的单选题',
    '十字路口的故事',
    '算一下八字',
    '写一篇几千字的文章',
    'Use a few hundred words.',
    'Summarise the 500 keywords.',
  ])('%j has none', (prompt) => {
    expect(range(prompt)).toBeNull();
  });

  it('keeps only the number attached to a unit', () => {
    expect(range('Write 5 tips in 800 words for the year 2024.')).toEqual([720, 880]);
    expect(findLengthMentions('Write 5 tips in 800 words.').map((m) => m.n)).toEqual([800]);
  });
});

describe('precedence between mentions', () => {
  it.each([
    ['the first mention wins', '写一篇1000-1200字的读后感，开头200字简要介绍作品背景，结尾200-300字谈个人感受。', [1000, 1200]],
    ['per-part (各) is skipped for the total', '分两部分写，各写1000字，全文不少于2000字', [2000, 2200]],
    ['"words each" is per part', 'Write 3 sections of 500 words each, 1500 words in total.', [1350, 1650]],
    [
      'a total mark wins over earlier mentions',
      'Each section should be around 2000 words, with the total text exceeding 6000 words.',
      [6000, 6600],
    ],
    ['总字数 wins', '总字数要求不少于2万字。一、前言（1000字左右）', [20000, 22000]],
    ['a title length counts only when alone', '标题：简洁有力，20字以内。正文800-1200字。', [800, 1200]],
    ['a title length alone is the requirement', 'Write a title of at most 10 words.', [9, 10]],
    ['at least and at most together give a range', 'At least 150 words and no more than 200 words.', [150, 200]],
    ['at most then at least, in Chinese', '不超过2000字，不少于1500字', [1500, 2000]],
  ])('%s', (_, prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });

  it('reports the mentions it used, with the per-part and total marks', () => {
    expect(findLengthMentions('Write four letters, each no more than 250 words.')[0]).toMatchObject({
      perPart: true,
      parts: { lo: 4, hi: 4, text: 'four', index: 6 },
    });
    expect(parseLengthRequirement('创作五篇日记，每篇400字左右。')?.parts).toMatchObject({ lo: 5, hi: 5, text: '五篇' });
    const mentions = findLengthMentions('Write 3 sections of 500 words each, 1500 words in total.');
    expect(mentions.map((m) => [m.text, m.perPart, m.total])).toEqual([
      ['500 words', true, false],
      ['1500 words', false, true],
    ]);
    expect(parseLengthRequirement('Write a 500-word essay.')?.mentions[0]).toMatchObject({ form: 'exact', n: 500, index: 8 });
  });
});

describe('per-part lengths times the number of parts', () => {
  // the count times the stated number, then the one rule: five x "about 100" = about 500 -> [450, 550]
  it.each([
    ['Write five poems, each of about 100 words.', [450, 550]],
    ['Write 3 sections of 500 words each.', [1350, 1650]],
    ['Write 10 product descriptions, 50 words each.', [450, 550]],
    ['Write 6 diary entries of 200 words each.', [1080, 1320]],
    ['Write a set of five short poems; each poem should be around 120 words.', [540, 660]],
    ['Write four letters to the editor, each no more than 250 words.', [900, 1000]],
    ['Each of the 5 essays should be at least 300 words.', [1500, 1650]],
    ['In 2024, write 3 blog posts, each 600 words.', [1620, 1980]],
    ['Write two chapters. Each chapter: at least 2,000 words and no more than 3,000 words.', [4000, 6000]],
    ['Create 3-5 slogans for young buyers aged 20-35. Each slogan should be 15-20 words.', [45, 100]],
    ['Write twelve monthly newsletters, 300 words per newsletter.', [3240, 3960]],
    ['创作五篇日记，每篇400字左右。', [1800, 2200]],
    ['在日本旅行5天，写五篇游记，每天一篇，每篇不少于300字。', [1500, 1650]],
    ['写三个故事，每个故事500字左右', [1350, 1650]],
    ['为产品写10条用户好评，每条评论控制在150-200字。', [1500, 2000]],
    ['写两首诗，每首不超过100字', [180, 200]],
    // a count range times one stated length: lo from the fewest parts, hi from the most (about: 0.9 x 3 x 100, 1.1 x 5 x 100)
    ['Write 3-5 poems, each about 100 words.', [270, 550]],
    ['写3-5篇短文，每篇约200字。', [540, 1100]],
  ])('%j -> %j', (prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });

  it.each([
    ['no count of parts', 'Write some poems, each of about 100 words.'],
    ['a count of something else', 'Write a story about 5 friends. Each paragraph should be 100 words.'],
    ['a count of units is no count of parts', 'Use 3 words or fewer per line, each line 10 words.'],
    ['个 needs the same noun', '正文：3-5个核心观点，每个观点需包含实例。每个帖文篇幅控制在800-1200字'],
    ['各写 with no count of parts', '各写1000字，谈谈两座城市'],
    ['one part is no count', 'Write one poem, each stanza 50 words.'],
  ])('%s: %j has none', (_, prompt) => {
    expect(range(prompt)).toBeNull();
  });

  it('a whole-answer length beats the per-part ones', () => {
    expect(range('Write 3 sections of 500 words each, 1500 words in total.')).toEqual([1350, 1650]);
    expect(range('Write a 2000-word report in four parts, each about 500 words.')).toEqual([1800, 2200]);
  });
});

// Forms found by an adversarial review (session 33): each row failed before its fix.
describe('negated bounds, Chinese approximations, material lengths and split bounds', () => {
  it.each([
    // a negated bound is the opposite one
    ['The essay should not be less than 1000 words.', [1000, 1100]],
    ['It should not be more than 300 words.', [270, 300]],
    ["Don't exceed 800 words.", [720, 800]],
    ["Don't write less than 600 words.", [600, 660]],
    ['Please do not go over 800 words.', [720, 800]],
    ['The report must not be fewer than 1,500 words.', [1500, 1650]],
    ['No shorter than 1000 words.', [1000, 1100]],
    ['文章不得低于3000字', [3000, 3300]],
    ['字数不能低于2000字', [2000, 2200]],
    ['请不要少于1000字', [1000, 1100]],
    ['不应超过500字', [450, 500]],
    ['不能多于600字', [540, 600]],
    ['不小于800字', [800, 880]],
    // one-sided words read as exact before
    ['Keep the text limited to 1000 words.', [900, 1000]],
    ['Limit your answer to 200 words.', [180, 200]],
    ['A 500-word limit applies.', [450, 500]],
    ['It must be longer than 800 words.', [800, 880]],
    ['不超出500字', [450, 500]],
    ['上限800字', [720, 800]],
    ['最低1000字', [1000, 1100]],
    ['3000字+', [3000, 3300]],
    // 多 / 余 / 来, bare 千 / 万, 近, adjacent numerals, full-width digits, 单词, w
    ['写一篇1000多字的文章', [1000, 1100]],
    ['两千多字的小说', [2000, 2200]],
    ['1500余字', [1500, 1650]],
    ['3000来字', [2700, 3300]],
    ['千字左右的短文', [900, 1100]],
    ['一篇万字长文', [9000, 11000]],
    ['写一篇近千字的文章', [900, 1100]],
    ['两三千字的报告', [2000, 3000]],
    ['三四百字', [300, 400]],
    ['写一篇三五千字的散文', [3000, 5000]], // 三五: "three or five", an idiom two apart
    ['二四千字', [3600, 4400]], // other numerals two apart are no range: 四千 alone
    ['８００字的作文', [720, 880]],
    ['不少于２０００字', [2000, 2200]],
    ['800－1000字', [800, 1000]],
    ['不少于120个单词', [120, 132]],
    ['一篇1w字的小说', [9000, 11000]],
    // thousands set off by a no-break or thin space; a plain space separates two numbers ("5 100-word poems")
    ['Write a 2\u00a0000-word essay.', [1800, 2200]],
    ['Write 12\u202f000 words.', [10800, 13200]],
    ['Write 5 100-word poems.', [450, 550]],
    // the length of given material, or a change to it, is not the answer's
    ['Summarize the following 3,000-word article in 200 words.', [180, 220]],
    ['Expand this 200-word paragraph into a 1000-word essay.', [900, 1100]],
    ['Below is a 2,000-word transcript. Write a 300-word summary.', [270, 330]],
    ['请将这篇2000字的演讲稿缩写为500字', [450, 550]],
    ['下面是一篇1000字的文章，请将其扩写到3000字', [2700, 3300]],
    ['Write 800 words; the story includes these 10 words: sea, salt, sail.', [720, 880]],
    ['这部小说共30万字，请写一篇800字的读后感', [720, 880]],
    ['该报告长达5000字，请用300字概括', [270, 330]],
    ['My novel is 80,000 words long. Write a 500-word synopsis.', [450, 550]],
    // but a requirement on the whole text is not material
    ['这篇文章要求共3000字', [2700, 3300]],
    ['请写一篇文章，全文共3000字', [2700, 3300]],
    // a total mark only from whole-text words
    ['写一篇3000字的报告，其中总结部分500字', [2700, 3300]],
    ['请用200字左右总结下面这篇5000字的报告', [180, 220]],
    ['Write a 2000-word essay. The conclusion should restate the whole argument in about 200 words.', [1800, 2200]],
    // a component's own clause only
    ['写一篇公众号推文，标题不超过20字，正文1500字左右', [1350, 1650]],
    ['以"春天"为题目，写一篇600字作文，其中景物描写不少于200字', [540, 660]],
    // English number words
    ['Write a five-hundred-word essay.', [450, 550]],
    ['Write a two thousand word report.', [1800, 2200]],
    ['Write a twenty-five word summary.', [23, 28]],
    ['Write thirty-five hundred words.', [3150, 3850]],
    ['Write a two-to-three thousand word essay.', [2000, 3000]],
    // two bounds, the unit on one of them
    ['Write an essay, 500 words minimum, 800 maximum.', [500, 800]],
    ['1,500 words max, 1,000 min', [1000, 1500]],
    ['At least 1000 and at most 1500 words.', [1000, 1500]],
    ['At least 1000 words but no more than 1500.', [1000, 1500]],
    ['字数不少于800，不超过1000', [800, 1000]],
    ['至少1000，最多1500字', [1000, 1500]],
    ['不少于1000、不多于1500字', [1000, 1500]],
    // a multiplier on the second number only
    ['Write about 2-3k words on jazz.', [2000, 3000]],
    ['A 1.5-2k word essay.', [1500, 2000]],
    ['Write between 2 and 3k words.', [2000, 3000]],
    ['A 500-2k word piece.', [500, 2000]],
    ['Write a 1500-to-2000-word essay.', [1500, 2000]],
    // word count phrasings
    ['Minimum word count 800.', [800, 880]],
    ['Word count: 800 minimum.', [800, 880]],
    ['Word count: 1,200–1,500.', [1200, 1500]],
    ['Word count requirement: 2000.', [1800, 2200]],
    ['The word count needs to be at least 800.', [800, 880]],
    ['The word count must be between 800 and 1000.', [800, 1000]],
    ['Word-count: 900', [810, 990]],
    // 每 / 各 in ordinary words are not per part
    ['写一篇关于每日阅读重要性的800字议论文', [720, 880]],
    ['为各位家长写一封500字的信', [450, 550]],
    ['介绍我国各地春节习俗的2000字文章', [1800, 2200]],
    ['Analyze each of the 3 policies in about 1500 words.', [1350, 1650]],
    ['We sell 4 products. Describe each one in a 600-word blog post.', [540, 660]],
    // per part with the count written next to the length
    ['Write three 500-word essays.', [1350, 1650]],
    ['Write ten 100-word stories.', [900, 1100]],
    ['Write 5 paragraphs of 100 words.', [450, 550]],
    ['写三篇500字的日记', [1350, 1650]],
    ['List 5 benefits and explain each in 100 words.', [450, 550]],
    ['写5个段落，每段100字', [450, 550]],
    ['写三个部分，每部分约500字', [1350, 1650]],
    ['分两部分写，各写1000字', [1800, 2200]],
    ['Write 5 comments. Each comment should be between 50-100 words.', [250, 500]],
  ])('%j -> %j', (prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });

  it.each([
    'Write several 200-word reviews.',
    'The article length needs to increase by 300-500 words.',
    '在原文基础上增加500字',
    'Translate the following 500-word passage.',
    '写一篇千字文的赏析',
    '足能写出一份几\n万字的调查报告',
    '上千字的长文',
  ])('%j has none', (prompt) => {
    expect(range(prompt)).toBeNull();
  });

  it('marks material lengths as references', () => {
    const [material, target] = findLengthMentions('Summarize the following 3,000-word article in 200 words.');
    expect([material.reference, target.reference]).toEqual([true, false]);
  });
});

// Forms of the README's rule that no row above held (a mutation audit: each row fails with one change to the parser).
describe('forms a mutation audit found untested', () => {
  it.each([
    ['Answer within 500 words.', [450, 500]], // "within" is at most
    ['3000字起', [3000, 3300]], // N字起 is at least
    ['Write 100 slogans, each 10 words.', [900, 1100]], // 100 parts is the largest count taken
    // a total mark wins over an earlier whole-answer mention
    ['Use 300 words for background and 200 for analysis, 1000 words in total.', [900, 1100]],
    ['Write 4 short paragraphs of 400 words in total.', [360, 440]], // a total is never per part
    ['Write a fifteen to twenty thousand word novel.', [15000, 20000]], // "thousand" carries to fifteen
    ['写一篇2-3千字的文章', [2000, 3000]], // 千 carries to the 2
    ['Write two thousand five hundred words.', [2250, 2750]], // a number of four words
    ['Write about 500 words-800 words.', [500, 800]], // the range beats the "about 500 words" inside it
    // the second bound of a per-part requirement is per part too, for the same parts: 3 x [500, 800]
    ['Write 3 essays. Each essay should be at least 500 words and 800 words or less.', [1500, 2400]],
    // bounds on different parts are no pair: the first, 3 x at least 100
    ['Write 3 poems, each at least 100 words, and 2 essays, each at most 500 words.', [300, 330]],
    ['Write three poems, 100 words apiece.', [270, 330]],
    ['Write three stories, each story about 500 words.', [1350, 1650]], // story -> stories
    ['Write 2 pages of 500 words.', [450, 550]], // pages are no parts
  ])('%j -> %j', (prompt, expected) => {
    expect(range(prompt)).toEqual(expected);
  });

  it.each([
    'Our shop has 12 products.\n\nWrite descriptions, 50 words each.', // a count in another paragraph
    'The 3 of us hiked a trail. Write diary entries about it, 200 words each.', // "us" is no plural noun
    '压缩到800字节以内', // 字节 is bytes
    '写几十万字的小说', // 几 before the numeral
  ])('%j has none', (prompt) => {
    expect(range(prompt)).toBeNull();
  });
});
