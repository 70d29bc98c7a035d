// A program in a real pseudo-terminal (node-pty), its screen read back with @xterm/headless: the TUI
// bench's streaming part (bench/tui.js) drives the TUI through it. Not a bench itself.
import xterm from '@xterm/headless';
import * as pty from 'node-pty';
import { processTree } from './outside.js';

const { Terminal } = xterm;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export /** A program in a pseudo-terminal, its screen kept by a headless xterm. */
class Screen {
  constructor(file, args, { cwd, env, cols, rows }) {
    this.term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.waiters = [];
    this.exit = null;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.spawnedAt = performance.now();
    this.proc = pty.spawn(file, args, { name: 'xterm-256color', cols, rows, cwd, env });
    this.pid = this.proc.pid;
    this.proc.onData((data) => {
      const at = performance.now();
      this.term.write(data, () => this.check(at));
    });
    this.proc.onExit((e) => {
      this.exit = e;
      // Let xterm parse what came before the exit, then fail whoever still waits.
      this.term.write('', () => {
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${w.what}: the program exited (${e.exitCode}) first:\n${this.text()}`));
        }
        this.resolveExit(e);
      });
    });
  }

  lines() {
    const buffer = this.term.buffer.active;
    const lines = [];
    for (let y = 0; y < this.term.rows; y++)
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    return lines;
  }

  text() {
    return this.lines().join('\n').trimEnd();
  }

  /** `at`: when the chunk that completed this screen arrived. */
  check(at) {
    if (!this.waiters.length) return;
    const lines = this.lines();
    for (const w of [...this.waiters]) {
      if (!w.ready(lines)) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      w.resolve(at);
    }
  }

  /** Resolves with the arrival time of the output that made `ready(lines)` true. */
  waitFor(ready, timeoutMs, what) {
    if (ready(this.lines())) return Promise.resolve(performance.now());
    if (this.exit) return Promise.reject(new Error(`${what}: the program has exited:\n${this.text()}`));
    return new Promise((resolve, reject) => {
      const w = { ready, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${what}: not on screen within ${timeoutMs} ms:\n${this.text()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  write(keys) {
    this.proc.write(keys);
  }

  /** Types `keys` (the program's quit key), then kills whatever is left of its tree. */
  async close(keys, graceMs = 5000) {
    if (!this.exit && keys) {
      this.write(keys);
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    if (!this.exit) {
      for (const pid of processTree(this.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await Promise.race([this.exited, sleep(2000)]);
    }
    this.term.dispose();
  }
}
