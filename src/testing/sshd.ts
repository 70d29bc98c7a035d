/**
 * A real OpenSSH server on 127.0.0.1 for tests: a free port, fresh host and user keys in a temp dir,
 * logging in as the current user. Suites that need it use `describe.skipIf(!sshdAvailable)`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SshTarget } from '../hosts/runner.js';
import { waitFor } from './wait.js';

export const SSHD_PATH = '/usr/sbin/sshd';

/** False when this machine has no sshd (suites skip, saying so). */
export const sshdAvailable = existsSync(SSHD_PATH);

/** The console.warn line a suite prints when it skips for lack of sshd. */
export const SSHD_MISSING = `${SSHD_PATH} not found: ssh tests skipped (apt-get install openssh-server)`;

export interface TestSshd {
  port: number;
  /** Private key authorised for `user`. */
  userKey: string;
  /** known_hosts holding this server's host key (for StrictHostKeyChecking=yes). */
  knownHostsFile: string;
  user: string;
  /** `${user}@127.0.0.1` */
  destination: string;
  /** The sshd log (-E), for failure messages. */
  logFile: string;
  /** A target for SshRunner that trusts exactly this server. */
  sshTarget(controlDir: string, name?: string): SshTarget;
  /** Stops the listener and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the server's first bytes ("SSH-2.0-…") or null when nothing answers. */
function banner(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (value: string | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done(null));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) done(data);
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(data || null));
  });
}

function keygen(file: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    stdio: 'ignore',
  });
}

function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'root';
  }
}

export interface SshdOptions {
  /**
   * Let the login shell read the user's rc files, as a real host does. Off by default: bash run by
   * sshd sources ~/.bashrc for every command (this machine's runs `pyenv init`, ~170 ms a command),
   * which would measure the account, not nightshift. sshd's `SetEnv SHLVL=1` makes bash skip it.
   */
  loadShellRc?: boolean;
}

/** Starts sshd; retries on another port if the one picked was taken in between. */
export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  if (!sshdAvailable) throw new Error(SSHD_MISSING);
  // sshd's privilege-separation directory; only root can create it, and only root needs it.
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch {
    // not root: sshd then runs without privilege separation for this user only
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-sshd-'));
  try {
    const hostKey = path.join(dir, 'host_ed25519');
    const userKey = path.join(dir, 'user_ed25519');
    keygen(hostKey, 'nightshift-test-host');
    keygen(userKey, 'nightshift-test-user');
    const authorizedKeys = path.join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, readFileSync(`${userKey}.pub`), { mode: 0o600 });
    let lastError: unknown;
    for (let tries = 0; tries < 5; tries++) {
      try {
        return await launch(dir, hostKey, userKey, authorizedKeys, opts);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(
  dir: string,
  hostKey: string,
  userKey: string,
  authorizedKeys: string,
  opts: SshdOptions,
): Promise<TestSshd> {
  const port = await freePort();
  const user = currentUser();
  const config = path.join(dir, `sshd_config-${port}`);
  const logFile = path.join(dir, `sshd-${port}.log`);
  const pidFile = path.join(dir, `sshd-${port}.pid`);
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${pidFile}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin yes',
      // Tests multiplex many commands over one ControlMaster connection.
      'MaxSessions 100',
      'MaxStartups 100',
      'LogLevel VERBOSE',
      ...(opts.loadShellRc ? [] : ['SetEnv SHLVL=1']),
      '',
    ].join('\n'),
  );
  const knownHostsFile = path.join(dir, `known_hosts-${port}`);
  const [keyType = '', keyBody = ''] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${keyType} ${keyBody}\n`);

  // -D: stay in the foreground as our child, so stop() (or our exit) ends it.
  const child: ChildProcess = spawn(SSHD_PATH, ['-D', '-f', config, '-E', logFile], { stdio: 'ignore' });
  let exited: string | null = null;
  child.on('exit', (code, signal) => (exited = `sshd exited (${signal ?? code})`));
  child.on('error', (err) => (exited = `sshd failed to start: ${err.message}`));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().slice(-2000) : '(no log)');
  try {
    await waitFor(
      `sshd on 127.0.0.1:${port}`,
      async () => {
        if (exited) throw new Error(`${exited}: ${log()}`);
        return (await banner(port))?.startsWith('SSH-') ?? false;
      },
      10_000,
      25,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  // If the test process dies without stop(), take sshd with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        // A fallback, not a synchronisation: sshd ends on SIGTERM at once.
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    port,
    userKey,
    knownHostsFile,
    user,
    destination: `${user}@127.0.0.1`,
    logFile,
    sshTarget: (controlDir: string, name = 'sshd-test'): SshTarget => ({
      name,
      destination: `${user}@127.0.0.1`,
      port,
      identityFile: userKey,
      controlDir,
      extraOptions: [`UserKnownHostsFile=${knownHostsFile}`, 'StrictHostKeyChecking=yes'],
    }),
    stop,
  };
}
