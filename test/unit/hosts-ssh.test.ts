/**
 * The ssh side of a host's config, without connecting: the exact options every ssh command carries,
 * the ControlPath directory's safety checks, and how `sshConfig`, `identityFile` and `workdir` are
 * read from nightshift.config.yaml.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NightshiftError } from '../../src/core/errors.js';
import { SpecError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { controlPathFor, privateDir, sshOptions, type SshTarget } from '../../src/hosts/ssh-argv.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-hosts-ssh-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const target = (over: Partial<SshTarget> = {}): SshTarget => ({
  name: 'gpu',
  destination: 'builder@gpu.example.com',
  controlDir: '/ws/queue/state/ssh',
  ...over,
});

describe('sshOptions', () => {
  it('carries the whole option set: multiplexed, kept alive, bounded, never prompting', () => {
    expect(sshOptions(target(), '/ws/queue/state/ssh/cm-%C')).toEqual([
      '-o',
      'ControlMaster=auto',
      '-S',
      '/ws/queue/state/ssh/cm-%C',
      '-o',
      'ControlPersist=10m',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'BatchMode=yes',
    ]);
  });

  it('puts -F, -p and -i (with IdentitiesOnly) first, then any extra -o', () => {
    const argv = sshOptions(
      target({
        sshConfig: '/home/me/ssh.conf',
        port: 2222,
        identityFile: '/home/me/key',
        extraOptions: ['X=1'],
      }),
      '/s/cm-%C',
    );
    expect(argv.slice(0, 8)).toEqual([
      '-F',
      '/home/me/ssh.conf',
      '-p',
      '2222',
      '-o',
      'IdentityFile="/home/me/key"',
      '-o',
      'IdentitiesOnly=yes',
    ]);
    expect(argv.slice(-2)).toEqual(['-o', 'X=1']);
  });

  it('passes a ControlPath with spaces as one -S argument, and doubles `%` except in the %C token', () => {
    const argv = sshOptions(
      target({ identityFile: '/my keys/100%/"id"\\', sshConfig: '/a b%/conf' }),
      '/work/a b%c/queue/state/ssh/cm-%C',
    );
    expect(argv[argv.indexOf('-S') + 1]).toBe('/work/a b%%c/queue/state/ssh/cm-%C');
    // ssh expands % tokens in IdentityFile, reads -o values as config words, and reads -F as given.
    expect(argv).toContain('IdentityFile="/my keys/100%%/\\"id\\"\\\\"');
    expect(argv[argv.indexOf('-F') + 1]).toBe('/a b%/conf');
    expect(argv.some((a) => a.startsWith('ControlPath='))).toBe(false);
  });
});

describe('the ControlPath directory', () => {
  const mode = (p: string) => statSync(p).mode & 0o777;

  it('is created 0700 under the workspace', () => {
    const dir = path.join(tmp, 'fresh', 'state', 'ssh');
    expect(controlPathFor(dir)).toBe(path.join(dir, 'cm-%C'));
    expect(mode(dir)).toBe(0o700);
  });

  it('an existing directory of ours with group or other permissions is set to 0700', () => {
    const dir = path.join(tmp, 'loose');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    privateDir(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('a symbolic link is refused, naming the path', () => {
    const real = path.join(tmp, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = path.join(tmp, 'link');
    symlinkSync(real, link);
    expect(() => privateDir(link)).toThrow(/symbolic link/);
    try {
      privateDir(link);
    } catch (err) {
      expect((err as NightshiftError).describe()).toContain(link);
    }
  });

  it('a regular file is refused', () => {
    const file = path.join(tmp, 'file');
    writeFileSync(file, '');
    expect(() => privateDir(file)).toThrow(/not a directory/);
  });

  it("another user's directory is refused, and left as it is", () => {
    let dir: string;
    if (process.getuid?.() === 0) {
      dir = path.join(tmp, 'theirs');
      mkdirSync(dir, { mode: 0o755 });
      chownSync(dir, 65534, 65534);
    } else {
      dir = '/usr'; // root's: a directory this user does not own
    }
    const before = statSync(dir);
    expect(() => privateDir(dir)).toThrow(/is owned by uid \d+, not by you/);
    const after = statSync(dir);
    expect([after.uid, after.mode]).toEqual([before.uid, before.mode]);
  });

  it('falls back to a per-user directory under the temp dir for a long workspace path, with the same checks', () => {
    const long = path.join(tmp, 'x'.repeat(80), 'state', 'ssh');
    const cp = controlPathFor(long);
    const dir = path.dirname(cp);
    expect(dir.startsWith(path.join(os.tmpdir(), `ns-ssh-${process.getuid?.() ?? 0}-`))).toBe(true);
    expect(mode(dir)).toBe(0o700);
    try {
      chmodSync(dir, 0o777);
      controlPathFor(long);
      expect(mode(dir)).toBe(0o700);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ssh host config', () => {
  const home = path.join(tmp, 'home');
  const root = path.join(tmp, 'my ws');
  mkdirSync(path.join(home, '.ssh'), { recursive: true });
  mkdirSync(path.join(root, 'keys'), { recursive: true });
  writeFileSync(path.join(home, '.ssh', 'ns.conf'), 'Host *\n');
  writeFileSync(path.join(root, 'keys', 'id'), 'key\n');
  const parse = (host: string) =>
    parseConfig(
      `hosts:\n  gpu: { kind: ssh, ssh: b@gpu, ${host} }\n`,
      path.join(root, 'nightshift.config.yaml'),
      {
        root,
        home,
      },
    );

  it('expands ~/ against the home directory and resolves relative paths against the workspace', () => {
    const cfg = parse('workdir: ~/.nightshift, sshConfig: ~/.ssh/ns.conf, identityFile: keys/id').hosts[
      'gpu'
    ];
    expect(cfg).toMatchObject({
      sshConfig: path.join(home, '.ssh', 'ns.conf'),
      identityFile: path.join(root, 'keys', 'id'),
      // The workdir is on the host: its ~ is the host's, resolved there.
      workdir: '~/.nightshift',
    });
  });

  it('a file that does not exist is an error naming the host, the field and the path it looked at', () => {
    let error: SpecError | null = null;
    try {
      parse('workdir: /srv/ns, sshConfig: ~/.ssh/missing.conf, identityFile: /nowhere/id');
    } catch (err) {
      error = err as SpecError;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect(error!.issues.map((i) => [i.field, i.line])).toEqual([
      ['hosts.gpu.sshConfig', 2],
      ['hosts.gpu.identityFile', 2],
    ]);
    expect(error!.issues[0]!.message).toContain(
      `host gpu: no file at ${path.join(home, '.ssh', 'missing.conf')}`,
    );
    expect(error!.issues[1]!.message).toContain('no file at /nowhere/id');
  });

  it('an ssh host without a workdir is an error that says what to put there', () => {
    expect(() => parse('port: 22')).toThrow(/hosts\.gpu\.workdir: an ssh host needs a workdir on the host/);
    // A local host keeps its default (the workspace's hosts/<name>).
    expect(parseConfig('hosts:\n  l: { kind: local }\n', 'c.yaml').hosts['l']?.workdir).toBeUndefined();
  });
});
