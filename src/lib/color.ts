/**
 * Whether to write colour: the one decision the CLI and the TUI share. NO_COLOR (https://no-color.org),
 * set and not empty, turns colour off, and so does FORCE_COLOR=0 or false (what chalk and commander read).
 * Styles that are not colour (bold, inverse, underline) stay: the TUI's selection and focus need them.
 */
export function colorDisabled(env: NodeJS.ProcessEnv): boolean {
  const no = env['NO_COLOR'];
  if (no !== undefined && no !== '') return true;
  return env['FORCE_COLOR'] === '0' || env['FORCE_COLOR'] === 'false';
}
