/** `1 task`, `2 tasks`: a count with its noun, plural when it is not one (`plural(2, 'match', 'matches')`). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
