/** `nightshift schema`: the JSON Schema of spec front matter, for editors. */
import { frontMatterJsonSchema } from '../../spec/schema.js';
import type { CommandContext } from '../context.js';
import { printJson } from '../output.js';

export function registerSchema(ctx: CommandContext): void {
  ctx.program
    .command('schema')
    .description('print the JSON Schema of spec front matter (for editor validation)')
    .action(() => printJson(ctx.io, frontMatterJsonSchema()));
}
