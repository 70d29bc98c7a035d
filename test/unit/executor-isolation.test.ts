/** The decisions behind the executors' isolation: their tmux socket, a foreign server, the doctor's warning. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { attachSocketPath, executorSocketPath, SOCKET_PATH_MAX } from '../../src/hosts/layout.js';
import { cleanEnvWords, foreignServerVariables, SERVER_ENV_OK_ERE, TMUX_CONF } from '../../src/hosts/tmux.js';
import { TMUX_FN } from '../../src/hosts/scripts.js';
import { configuredSecretNames, sharedUserWarning } from '../../src/providers/shared-user.js';

describe("the executors' tmux socket", () => {
  it('lives in the workdir, never under the user-wide /tmp/tmux-<uid>', () => {
    expect(executorSocketPath('/srv/ns', 'nightshift')).toBe('/srv/ns/tmux/nightshift');
    expect(executorSocketPath('~/.nightshift', 'x')).toBe('~/.nightshift/tmux/x');
  });

  it('refuses a name that is a path', () => {
    expect(() => executorSocketPath('/w', '../../tmp/tmux-0/default')).toThrow(/not a tmux socket name/);
    expect(() => executorSocketPath('/w', '')).toThrow(/not a tmux socket name/);
  });

  it('moves to a 0700 directory of its own under /tmp when the workdir makes too long a socket path', () => {
    const long = `/${'d'.repeat(SOCKET_PATH_MAX)}`;
    const socket = executorSocketPath(long, 'n');
    expect(socket).toMatch(/^\/tmp\/ns-tmux-[0-9a-f]{16}\/n$/);
    expect(executorSocketPath(`${long}x`, 'n')).not.toBe(socket);
    // The attach finds it from the configured workdir, `~/` included.
    expect(attachSocketPath(`~/${'d'.repeat(SOCKET_PATH_MAX)}`, 'n', { home: '/home/me' })).toBe(
      executorSocketPath(`/home/me/${'d'.repeat(SOCKET_PATH_MAX)}`, 'n', `~/${'d'.repeat(SOCKET_PATH_MAX)}`),
    );
  });

  it('is spelled for the host that attaches: home-relative over ssh, absolute here', () => {
    expect(attachSocketPath('~/.nightshift', 'n', null)).toBe('.nightshift/tmux/n');
    expect(attachSocketPath('~/.nightshift', 'n', { home: '/home/me' })).toBe('/home/me/.nightshift/tmux/n');
    expect(attachSocketPath('/abs/w', 'n', null)).toBe('/abs/w/tmux/n');
  });
});

describe("the executors' tmux server's environment", () => {
  it('is started from env -i with only PATH, HOME and LANG, and copies nothing from clients', () => {
    expect(cleanEnvWords({ path: '/bin', home: '/h' })).toEqual([
      'env',
      '-i',
      'PATH=/bin',
      'HOME=/h',
      'LANG=C.UTF-8',
    ]);
    expect(TMUX_FN).toContain('env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 tmux ');
    expect(TMUX_CONF).toContain('set -g update-environment ""');
  });

  const clean = 'HOME=/root\nLANG=C.UTF-8\nPATH=/usr/bin:/bin\nPWD=/tmp\n-TERM\n';
  const tainted = `${clean}ANTHROPIC_API_KEY=sk-ant-x\nOPENAI_API_KEY=sk-y\nPATHX=1\nbad\u001b[31mname=1\n`;

  it('names what a server nightshift did not start holds, never the values', () => {
    expect(foreignServerVariables(clean)).toEqual([]);
    expect(foreignServerVariables(tainted)).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'PATHX', '?']);
    expect(foreignServerVariables(tainted).join(' ')).not.toContain('sk-');
  });

  it('agrees with the grep -E the launch script runs (SERVER_ENV_OK_ERE)', () => {
    const grep = (text: string) =>
      spawnSync('grep', ['-Ev', SERVER_ENV_OK_ERE], { input: text, encoding: 'utf8' }).stdout;
    expect(grep(clean)).toBe('');
    expect(grep(tainted).split('\n').filter(Boolean)).toHaveLength(4);
  });
});

describe('the doctor on executors that share the supervisor’s user', () => {
  const config = (providers: string, extra = '') =>
    parseConfig(
      `hosts:\n  here: { kind: local }\n  far: { kind: ssh, ssh: agent@localhost, workdir: ~/.nightshift }\nproviders:\n${providers}\n${extra}`,
      'nightshift.config.yaml',
    );

  it('warns for a local host when any provider has a secret, naming the variables', () => {
    const c = config('  a: { kind: scripted, hosts: [far], secretEnv: { T: NS_A_KEY } }');
    expect(sharedUserWarning('here', c, {})?.detail).toMatch(/run as your own user.*NS_A_KEY/);
    expect(sharedUserWarning('here', c, {})?.fix).toMatch(/agent@localhost/);
    expect(sharedUserWarning('far', c, {})).toBeNull();
  });

  it("counts the architect's key when it is set, and is quiet with no secret at all", () => {
    const c = config('  a: { kind: scripted, hosts: [here] }');
    expect(sharedUserWarning('here', c, {})).toBeNull();
    expect(sharedUserWarning('here', c, { ANTHROPIC_API_KEY: 'sk' })?.detail).toContain('ANTHROPIC_API_KEY');
    expect(configuredSecretNames(c, { ANTHROPIC_API_KEY: '' })).toEqual([]);
  });
});
