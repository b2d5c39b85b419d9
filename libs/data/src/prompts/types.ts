// The normalised prompt row every loader returns, whatever the file's format. Fields of the original row
// are kept in `fields` so samples can carry them through (CONTRACTS.md: "plus any fields of the prompt row").

export const PROMPT_FORMATS = [
  'lwz-writing',
  'longbench-write',
  'writingbench-v1',
  'writingbench-v2',
  'arena-write',
  'verl',
  'prompt',
] as const;
export type PromptFormat = (typeof PROMPT_FORMATS)[number];

/** One WritingBench criterion: a name, what it measures, and optional score-band descriptions ("1-2".."9-10"). */
export interface Criterion {
  name: string;
  description: string;
  bands: Record<string, string>;
}

export interface PromptRow {
  /** from the file's id/index/idx field, else `<file name>:<line>` */
  id: string;
  prompt: string;
  /** LongBench-Write/Arena-Write `type`, WritingBench `domain1`, generated rows' type */
  type?: string;
  /** required words (LongBench-Write/Arena-Write `length`, generated rows) */
  length?: number;
  /** explicit target word range [lo, hi] (generated rows' `length_range`) */
  lengthRange?: [number, number];
  /** WritingBench v1 `criteria` or v2 `checklist` */
  criteria?: Criterion[];
  /** the row as it was in the file */
  fields: Record<string, unknown>;
  /** where it came from, for messages */
  line: number;
}

export interface PromptSet {
  file: string;
  format: PromptFormat;
  rows: PromptRow[];
}
