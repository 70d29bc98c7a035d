/** The quality gates, in the fixed order they run. */
export const GATE_NAMES = [
  'tests',
  'lint',
  'named-tests',
  'tests-kept',
  'diff',
  'deletions',
  'commits',
  'secrets',
] as const;
export type GateName = (typeof GATE_NAMES)[number];

export function isGateName(name: string): name is GateName {
  return (GATE_NAMES as readonly string[]).includes(name);
}
