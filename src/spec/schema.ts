/** The spec front matter schema: strict (unknown keys are errors), with no defaults of its own. */
import { z } from 'zod';
import { branchSchema, durationSchema, nameSchema } from '../config/schema.js';
import { GATE_NAMES } from '../core/gates.js';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** A spec's `source:`: the GitHub issue it was imported from (docs/integrations.md#github). */
export const SOURCE_PATTERN = /^github:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+#[0-9]{1,9}$/;

const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !CONTROL.test(v), 'must not contain control characters or terminal escapes')
    .refine((v) => !BIDI.test(v), 'must not contain invisible bidirectional-override characters');

export const testNameSchema = plainText(200)
  .min(1)
  .refine((v) => !/[\n\r]/.test(v), 'must be one line')
  .refine((v) => !v.startsWith('-'), 'cannot start with "-"');

export const frontMatterSchema = z.strictObject({
  title: plainText(200)
    .min(1)
    .refine((v) => !v.includes('\n'), 'must be one line')
    .optional()
    .describe('Short title; defaults to the first "# " heading of the body'),
  id: nameSchema.optional().describe('Task id, ^[a-z0-9][a-z0-9-]{0,62}$; defaults to the file name'),
  repo: nameSchema.optional().describe('A repo named in the config; defaults to the default repo'),
  base: branchSchema.optional().describe('Branch to start from; defaults to the repo main branch'),
  provider: nameSchema.optional().describe('Pin a provider from the config; otherwise routed'),
  priority: z
    .number()
    .int()
    .min(-1000)
    .max(1000)
    .optional()
    .describe('Higher runs first; FIFO within a priority'),
  dependsOn: z.array(nameSchema).max(50).optional().describe('Task ids that must be merged first'),
  timeout: durationSchema.optional().describe('Start-to-close limit of one attempt, e.g. 2h'),
  idle: durationSchema.optional().describe('No progress for this long means stuck, e.g. 20m'),
  attempts: z.number().int().min(1).max(20).optional(),
  reviewRounds: z.number().int().min(0).max(20).optional(),
  tests: z.array(testNameSchema).max(100).optional().describe('Exact tests the change must add and pass'),
  stop: plainText(4000).min(1).optional().describe('When the executor should stop'),
  gates: z
    .array(z.enum(GATE_NAMES))
    .max(GATE_NAMES.length)
    .optional()
    .describe('Override the enabled gate set'),
  source: z
    .string()
    .regex(SOURCE_PATTERN, 'expected github:owner/repo#N')
    .optional()
    .describe('Where the spec came from: github:owner/repo#N, set by `nightshift import github`'),
  followUpOf: nameSchema
    .optional()
    .describe('The task this spec follows up: set by the architect after that task failed or parked'),
});

export type FrontMatter = z.output<typeof frontMatterSchema>;
export const FRONT_MATTER_KEYS = Object.keys(frontMatterSchema.shape);

/** JSON Schema of the front matter, for editors (`nightshift schema`). */
export function frontMatterJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(frontMatterSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'nightshift spec front matter',
  };
}

export { CONTROL, BIDI };
