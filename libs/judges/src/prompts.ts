// The built-in judge prompts, in our own words: the criteria critic (one criterion, an integer score in a
// range, JSON reply), the pairwise referee (verdict label at the end), and the quality rubric the trainer's
// quality reward uses. Python-format placeholders (template.ts); users replace them with their own files.
// Bump a prompt's version when its words change: it is part of the judge's id and results.

/** Placeholders a criteria template may use; {response} is required. */
export const CRITERIA_FIELDS = ['query', 'response', 'criteria', 'criterion_name', 'min', 'max'] as const;
/** Placeholders a pairwise template may use; {answer_a} and {answer_b} are required. */
export const PAIRWISE_FIELDS = ['query', 'answer_a', 'answer_b', 'labels'] as const;

export const CRITERIA_PROMPT_VERSION = 'critic-1';
export const PAIRWISE_PROMPT_VERSION = 'referee-1';

export const DEFAULT_CRITERIA_SYSTEM = 'You are a demanding editor who grades writing against one stated criterion at a time.';

export const DEFAULT_CRITERIA_TEMPLATE = `Grade the response below against a single criterion.

How to grade:
- Read the writing request, then the response, then the criterion with its score bands.
- Judge only what the criterion asks about; other strengths or faults do not move this score.
- Look past polish and bulk: a long, well-formatted answer that does not do what was asked scores low, and
  so does one that only outlines, introduces or promises the requested text instead of writing it.
- Check claims that look made up; invented facts, quotes or figures count against the response.
- Name concrete passages of the response in your reason.
- The score is one integer from {min} to {max}; {max} means nothing could be improved for this criterion.

<request>
{query}
</request>

<response>
{response}
</response>

<criterion>
{criteria}
</criterion>

Write a short justification first if you like. End your reply with exactly one JSON object on its own line:
{{"score": <integer from {min} to {max}>, "reason": "<one or two sentences>"}}`;

export const DEFAULT_PAIRWISE_SYSTEM = 'You are an impartial referee comparing two answers to the same writing request.';

export const DEFAULT_PAIRWISE_TEMPLATE = `Compare the two answers to the writing request below and decide which one serves the request better.

Weigh, in this order: whether the answer does what was asked (topic, genre, audience, constraints such as
length), the substance and accuracy of its content, its structure and flow, and the quality of its language.
Do not favour an answer for being first or second, for being longer, or for heavy formatting. Padding,
repetition and unfinished text are faults.

<request>
{query}
</request>

<answer_a>
{answer_a}
</answer_a>

<answer_b>
{answer_b}
</answer_b>

Explain your comparison briefly, then finish with your verdict as the last thing in your reply, one of:
{labels}
(A>>B: A is much better; A>B: A is better; A=B: about the same; B>A: B is better; B>>A: B is much better.)`;

/** The quality reward's rubric (1-10): one criterion fed to the criteria judge. */
export const QUALITY_RUBRIC = {
  name: 'Overall writing quality',
  description:
    'How well the response fulfils the writing request as a piece of writing: relevance to the request, ' +
    'depth and accuracy of content, organisation and flow, clarity and liveliness of language. Repetition, ' +
    'filler and padding to look long are serious faults; length alone earns nothing.',
  bands: {
    '1-2': 'Off-task, incoherent, or mostly repetition or filler.',
    '3-4': 'On topic but thin, disorganised or error-ridden; large parts add nothing.',
    '5-6': 'Does the job adequately; plain, with noticeable weaknesses in content or form.',
    '7-8': 'Clearly good: substantial, well organised and well written, with minor flaws.',
    '9-10': 'Excellent throughout: rich, precise, engaging, nothing to cut.',
  },
} as const;
