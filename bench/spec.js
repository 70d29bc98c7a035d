// Spec parser benchmarks: how long parseSpec takes to refuse hostile input (alias bombs, deep nesting,
// 64 KiB of hostile front matter) and to accept a 1 MiB spec. These were wall-clock bounds in the unit
// tests, which failed on a busy 2-core machine; the tests keep the verdicts, the figures live here.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js.
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { MAX_SPEC_BYTES, parseSpec } from '../dist/spec/parse.js';

const config = parseConfig('repos: {app: {path: /tmp/x}}\n', 'nightshift.config.yaml');
const BODY = 'Add exponential backoff to the HTTP client, with the two named tests, and nothing else.\n';
const spec = (front) => `---\n${front}\n---\n${BODY}`;
const RUNS = 5;

const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat('bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`))
  .join('\n');

const head = spec('title: Big\ntests: [t]\nstop: s');
const big =
  head + 'word '.repeat(Math.ceil(MAX_SPEC_BYTES / 5)).slice(0, MAX_SPEC_BYTES - Buffer.byteLength(head));

/** [metric, input, goal ms]: each is parsed RUNS times; the median is reported. */
const CASES = [
  ['refuse a billion-laughs alias bomb', spec(bomb), 100],
  ['refuse 10,000 nested [', spec(`title: T\nstop: ${'['.repeat(10_000)}`), 100],
  [
    'refuse 200 indented mappings',
    spec(Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')),
    100,
  ],
  ['refuse 64 KiB of commas in a flow list', spec(`tests: [${','.repeat(65_000)}]`), 2000],
  ['refuse 64 KiB of quotes', spec('"'.repeat(65_000)), 2000],
  ['refuse 6,000 unknown keys', spec(Array.from({ length: 6_000 }, (_, i) => `k${i}: 1`).join('\n')), 2000],
  ['accept a 1 MiB spec', big, 1000],
  ['refuse a 10 MiB file', 'x'.repeat(10 * 2 ** 20), 50],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run() {
  const rows = [];
  for (const [metric, text, goal] of CASES) {
    const bytes = new TextEncoder().encode(text);
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      try {
        parseSpec(bytes, { file: 'bench.md', config });
      } catch {
        // refused, as expected for the hostile inputs
      }
      times.push(performance.now() - start);
    }
    rows.push({
      bench: 'spec',
      metric,
      value: Math.round(median(times) * 10) / 10,
      unit: 'ms',
      goal: `<= ${goal}`,
    });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await run());
