#!/usr/bin/env node
// The composition root: builds the real adapters (process IO, the system clock) and runs the CLI.
// `nightshift --version` alone is answered here, before any of dist/ loads (the CLI's start-up floor is
// node's own; bench/startup.js); everything else loads only what its command needs (cli/command-table.ts).
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const [{ main }, { systemClock }] = await Promise.all([
    import('../dist/cli/main.js'),
    import('../dist/lib/clock.js'),
  ]);

  // `nightshift ls | head -2`: when the reader goes away, the command ends quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(process.exitCode ?? 0);
    });
  }

  const io = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    clock: systemClock,
  };

  process.exitCode = await main(argv, io);
}
