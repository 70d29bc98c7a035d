/** What a command may touch of the outside world; tests pass their own. */
import type { Clock } from '../lib/clock.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
}
