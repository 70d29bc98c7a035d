#!/usr/bin/env node
// The composition root: builds the real adapters (process IO, the system clock) and runs the CLI.
import { main } from '../dist/cli/main.js';
import { systemClock } from '../dist/lib/clock.js';

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

process.exitCode = await main(process.argv.slice(2), io);
