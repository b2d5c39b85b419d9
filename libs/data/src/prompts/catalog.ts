// What the writing-prompt generator draws from: genres (with the names a prompt may use for them, the
// registers that suit them and the themes they take), topics grouped by theme, and the phrasings of each
// explicit length requirement. Chosen to fit the embedded corpus (addresses, speeches, letters, reports,
// sea stories, essays). Plain data; the sampling lives in generator.ts.
import { LENGTH_FORMS, type LengthForm } from '@lwz/rewards';

export type Theme = 'civic' | 'sea' | 'life';

export interface Genre {
  name: string;
  /** the `type` field of generated rows (LongBench-Write style category) */
  type: string;
  /** names for the genre: `any` suit every theme, the others only their theme */
  nouns: Readonly<Partial<Record<Theme | 'any', readonly string[]>>>;
  registers: readonly string[];
  themes: readonly Theme[];
}

export const GENRES: readonly Genre[] = [
  {
    name: 'address',
    type: 'Speech',
    nouns: { civic: ['State of the Union address', 'annual message to Congress', 'address to the nation', 'inaugural address'] },
    registers: ['formal', 'solemn', 'confident', 'sober'],
    themes: ['civic'],
  },
  {
    name: 'speech',
    type: 'Speech',
    nouns: {
      any: ['speech', 'commencement speech', 'farewell speech'],
      civic: ['speech to a town meeting'],
      sea: ["speech to a ship's crew"],
    },
    registers: ['rousing', 'measured', 'plain-spoken', 'warm'],
    themes: ['civic', 'sea', 'life'],
  },
  {
    name: 'letter',
    type: 'Letter',
    nouns: {
      any: ['letter to a friend', 'open letter', 'letter to the editor'],
      civic: ['letter to a newly elected senator'],
      sea: ['letter home from sea'],
    },
    registers: ['warm', 'formal', 'candid', 'wistful'],
    themes: ['civic', 'sea', 'life'],
  },
  {
    name: 'report',
    type: 'Report',
    nouns: {
      any: ['report', 'briefing memo'],
      civic: ['annual report to Congress', 'committee report'],
      sea: ["ship's report to its owners"],
    },
    registers: ['factual', 'formal', 'concise', 'analytical'],
    themes: ['civic', 'sea'],
  },
  {
    name: 'sea story',
    type: 'Fiction',
    nouns: { sea: ['sea story', 'short story set aboard a whaling ship', 'tale of a long voyage', 'chapter of a sea novel'] },
    registers: ['vivid', 'brooding', 'adventurous', 'lyrical'],
    themes: ['sea'],
  },
  {
    name: 'essay',
    type: 'Essay',
    nouns: { any: ['essay', 'reflective essay', 'opinion essay', 'newspaper column', 'persuasive essay'] },
    registers: ['thoughtful', 'argumentative', 'conversational', 'scholarly'],
    themes: ['civic', 'sea', 'life'],
  },
  {
    name: 'journal',
    type: 'Fiction',
    nouns: { any: ['diary entry'], sea: ["ship's journal entry", "captain's log for one week"] },
    registers: ['terse', 'reflective', 'vivid'],
    themes: ['sea', 'life'],
  },
];

export const TOPICS: Readonly<Record<Theme, readonly string[]>> = {
  civic: [
    'the state of the national economy',
    'public schools and universities',
    'building roads, canals and railways',
    'foreign trade and tariffs',
    'paying down the national debt',
    'a recovering farm economy',
    'the care of veterans',
    'immigration and new citizens',
    'the postal service',
    'a fairer tax system',
    'energy for a growing country',
    'science, invention and patents',
    'keeping the peace abroad',
    'recovery after a great flood',
    'conserving forests and rivers',
    'the growth of cities',
    'wages and working hours',
    'the strength of the navy',
    'public health and hospitals',
    'the census and what it shows',
    'reform of the civil service',
    'the frontier and new states',
  ],
  sea: [
    'a whaling voyage from Nantucket',
    'a storm off Cape Horn',
    'a captain obsessed with one whale',
    'life in the forecastle',
    'a harpooner from a distant island',
    'the first sight of land after months at sea',
    'a shipwreck and its survivors',
    'the night watch on a calm sea',
    'navigating by the stars',
    'a harbour town on the eve of departure',
    "sailors' superstitions",
    'a mutiny narrowly averted',
    'the lowering of the boats for a chase',
    'trying out whale oil on deck',
    'a meeting of two ships in mid-ocean',
    'the ocean as a place of solitude',
  ],
  life: [
    'an old friendship',
    'ambition and its costs',
    'the value of honest work',
    'memory and the idea of home',
    'courage in ordinary life',
    'the changing seasons',
    'curiosity and learning',
    'a journey that changed someone',
    'patience',
    'the first day in a new city',
    'what neighbours owe one another',
    'growing old',
  ],
};

/** The explicit length requirement forms of the paper's prompts (@lwz/rewards owns them, with their range rule). */
export { LENGTH_FORMS, type LengthForm };

/** `{a}`/`{an}` = article + noun, `{noun}`, `{topic}`, `{n}`, `{lo}`, `{hi}`. */
export const TEMPLATES: Readonly<Record<LengthForm, readonly string[]>> = {
  exact: [
    'Write a {n}-word {noun} about {topic}.',
    'Compose a {n}-word {noun} on {topic}.',
    'Please write a {n}-word {noun} about {topic}.',
  ],
  about: [
    'Write {a} about {topic} in about {n} words.',
    'Write {a} of approximately {n} words on {topic}.',
    'Compose {a} about {topic}, roughly {n} words long.',
  ],
  'at-least': [
    'Write {a} about {topic}. It should be at least {n} words long.',
    'Write {a} of no fewer than {n} words on {topic}.',
    'Compose {a} about {topic} in at least {n} words.',
  ],
  'at-most': [
    'Write {a} about {topic} in no more than {n} words.',
    'Write {a} on {topic}; keep it under {n} words.',
    'Compose {a} about {topic}, at most {n} words.',
  ],
  range: [
    'Write {a} about {topic}, {lo}-{hi} words.',
    'Write {a} of between {lo} and {hi} words on {topic}.',
    'Compose {a} about {topic} in {lo} to {hi} words.',
  ],
};
