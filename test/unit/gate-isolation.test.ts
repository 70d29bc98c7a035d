/** The pure decisions of gate isolation: the environment, the sandbox choice and argv, ref changes. */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { NightshiftError } from '../../src/core/errors.js';
import { refChanges } from '../../src/daemon/gate-runs.js';
import { bwrapArgv, resolveSandbox } from '../../src/hosts/sandbox.js';
import { gateEnvironment } from '../../src/review/isolation.js';

describe('gateEnvironment', () => {
  const config = configSchema.parse({
    providers: { p: { kind: 'command', command: ['true'], secretEnv: { KEY: 'P_SECRET' } } },
    architect: { apiKeyEnv: 'ARCH_KEY' },
    gates: { env: ['JAVA_HOME', 'P_SECRET', 'UNSET_ONE', 'COPY_OF_KEY'] },
  });

  it('passes PATH, HOME, LANG, gates.env and CI=true, nothing else, never a secret by name or value', () => {
    const env = gateEnvironment(config, {
      PATH: '/bin',
      HOME: '/h',
      LANG: 'C.UTF-8',
      JAVA_HOME: '/jdk',
      P_SECRET: 's1',
      ARCH_KEY: 's2',
      COPY_OF_KEY: 's2',
      SSH_AUTH_SOCK: '/agent',
      TMUX: '/tmp/tmux-0/default,1,0',
    });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', LANG: 'C.UTF-8', JAVA_HOME: '/jdk', CI: 'true' });
  });

  it('a daemon without PATH or HOME still gives the gate a usable PATH and the home directory', () => {
    const env = gateEnvironment(config, {});
    expect(env['PATH']).toBe('/usr/local/bin:/usr/bin:/bin');
    expect(env['HOME']).toBeTruthy();
    expect(Object.keys(env).sort()).toEqual(['CI', 'HOME', 'PATH']);
  });

  it('gates.env is validated as variable names', () => {
    expect(() => configSchema.parse({ gates: { env: ['NOT-A-NAME'] } })).toThrow(/environment variable name/);
    expect(configSchema.parse({}).gates).toMatchObject({ env: [], sandbox: 'auto', network: false });
  });
});

describe('resolveSandbox', () => {
  const works = { ok: true, detail: 'bubblewrap 0.8.0' };
  const broken = { ok: false, detail: 'bwrap not found' };

  it('none never probes; auto uses bwrap when it works and none otherwise; network as configured', () => {
    expect(resolveSandbox('none', false, null)).toEqual({ kind: 'none' });
    expect(resolveSandbox('auto', false, works)).toEqual({ kind: 'bwrap', network: false });
    expect(resolveSandbox('auto', true, works)).toEqual({ kind: 'bwrap', network: true });
    expect(resolveSandbox('auto', false, broken)).toEqual({ kind: 'none' });
    expect(resolveSandbox('bwrap', false, works)).toEqual({ kind: 'bwrap', network: false });
  });

  it('bwrap configured but broken is an error naming gates.sandbox and the fix, never a run without it', () => {
    let err: unknown;
    try {
      resolveSandbox('bwrap', false, broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NightshiftError);
    const e = err as NightshiftError;
    expect(e.code).toBe('invalid-config');
    expect(e.context.field).toBe('gates.sandbox');
    expect(e.describe()).toMatch(/bwrap not found.*apt-get install bubblewrap/);
  });
});

describe('bwrapArgv', () => {
  it('/ read-only, a private /tmp, the borrowed objects read-only above it, the checkout writable, no network', () => {
    const argv = bwrapArgv(['sh', '-c', 'x'], {
      cwd: '/w/c',
      writable: ['/w/c'],
      readable: ['/tmp/r/.git/objects'],
      network: false,
    });
    expect(argv.join(' ')).toBe(
      'bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --ro-bind /tmp/r/.git/objects /tmp/r/.git/objects ' +
        '--bind /w/c /w/c --unshare-pid --unshare-net --die-with-parent --chdir /w/c -- sh -c x',
    );
    const online = bwrapArgv(['true'], { cwd: '/w/c', writable: ['/w/c'], readable: [], network: true });
    expect(online).not.toContain('--unshare-net');
    expect(online).toContain('--unshare-pid');
  });
});

describe('refChanges', () => {
  it('lists moved, created and deleted refs by name, and nothing that stayed', () => {
    const before = new Map([
      ['refs/heads/main', 'a'],
      ['refs/tags/v1', 't'],
      ['refs/heads/gone', 'g'],
    ]);
    const after = new Map([
      ['refs/heads/main', 'b'],
      ['refs/tags/v1', 't'],
      ['refs/heads/evil', 'e'],
    ]);
    expect(refChanges(before, after)).toEqual([
      { ref: 'refs/heads/evil', from: null, to: 'e' },
      { ref: 'refs/heads/gone', from: 'g', to: null },
      { ref: 'refs/heads/main', from: 'a', to: 'b' },
    ]);
    expect(refChanges(before, new Map(before))).toEqual([]);
  });
});
