/**
 * doctor's endpoint verdicts (src/providers/endpoint.ts): curl's exit codes mapped to a cause a person can
 * act on, the URL shown without what may carry a token, and a command to try by hand.
 */
import { describe, expect, it } from 'vitest';
import { curlArgv, endpointFix, endpointOf, judgeCurl, shownUrl } from '../../src/providers/endpoint.js';
import { configSchema } from '../../src/config/schema.js';

const provider = (yaml: Record<string, unknown>) =>
  configSchema.parse({ providers: { p: yaml } }).providers['p']!;

describe('judgeCurl', () => {
  const url = 'https://api.example.test/anthropic';
  it.each([
    [
      6,
      'curl: (6) Could not resolve host: api.example.test',
      'dns',
      /the name api\.example\.test does not resolve \(DNS\): \(6\) Could not resolve host/,
    ],
    [
      7,
      'curl: (7) Failed to connect to api.example.test port 443',
      'refused',
      /nothing accepts connections at https:\/\/api\.example\.test\/anthropic/,
    ],
    [28, 'curl: (28) Resolving timed out after 10000 milliseconds', 'dns', /does not resolve \(DNS\)/],
    [28, 'curl: (28) Operation timed out after 20001 milliseconds', 'timeout', /did not answer within 20 s/],
    [
      35,
      'curl: (35) error:0A00010B:SSL routines::wrong version number',
      'tls',
      /TLS handshake with https:\/\/api\.example\.test\/anthropic failed: \(35\) .*wrong version number/,
    ],
    [60, 'curl: (60) SSL certificate problem: self-signed certificate', 'tls', /self-signed/],
    [127, 'sh: curl: not found', 'no-curl', /curl is not installed/],
    [56, 'curl: (56) Recv failure: Connection reset by peer', 'other', /curl exited 56/],
  ] as const)('exit %i is %s', (code, stderr, cause, detail) => {
    const v = judgeCurl(url, code, '000', stderr);
    expect(v.ok).toBe(false);
    expect(v.cause).toBe(cause);
    expect(v.detail).toMatch(detail);
  });

  it('any HTTP answer, 401 and 404 included, is a reachable endpoint', () => {
    for (const status of ['200', '401', '404']) {
      expect(judgeCurl(url, 0, status, '')).toEqual({
        ok: true,
        cause: 'answered',
        detail: `https://api.example.test/anthropic answered (HTTP ${status})`,
      });
    }
  });
});

describe('shownUrl and the fix', () => {
  it('drops the user, password and query, which may carry a token', () => {
    expect(shownUrl('https://me:s3cret@proxy.test:8443/v1?key=abc#x')).toBe('https://proxy.test:8443/v1');
    expect(judgeCurl('https://me:s3cret@proxy.test/v1?key=abc', 7, '', '').detail).not.toMatch(/s3cret|abc/);
  });

  it('names the field and a command to paste, through the ssh to the host when there is one', () => {
    const v = judgeCurl('http://glm.internal:4000', 6, '', '');
    const fix = endpointFix(v, 'http://glm.internal:4000?token=zzz', 'providers.glm.env.ANTHROPIC_BASE_URL', [
      'ssh',
      '--',
      'me@w1',
    ]);
    expect(fix).toContain('check the host name in providers.glm.env.ANTHROPIC_BASE_URL');
    expect(fix).toContain("try: ssh -- me@w1 curl -sS -o /dev/null -w '%{http_code}'");
    expect(fix).toContain('--url http://glm.internal:4000/');
    expect(fix).not.toContain('zzz');
    expect(endpointFix(judgeCurl('http://x', 0, '200', ''), 'http://x', 'f', [])).toBeNull();
  });

  it('curl is told the URL with --url, never as a bare argument a leading dash could turn into a flag', () => {
    const argv = curlArgv('-K/etc/passwd');
    expect(argv.at(-2)).toBe('--url');
    expect(argv.at(-1)).toBe('-K/etc/passwd');
  });
});

describe('endpointOf', () => {
  it('is the configured base URL or the CLI’s default, with the field that sets it', () => {
    expect(
      endpointOf('glm', provider({ kind: 'claude-code', env: { ANTHROPIC_BASE_URL: 'https://glm.test' } })),
    ).toEqual({
      url: 'https://glm.test',
      field: 'providers.glm.env.ANTHROPIC_BASE_URL',
    });
    expect(endpointOf('c', provider({ kind: 'claude-code' }))?.url).toBe('https://api.anthropic.com');
    expect(endpointOf('x', provider({ kind: 'codex' }))?.url).toBe('https://api.openai.com/v1');
    expect(endpointOf('a', provider({ kind: 'aider' }))).toBeNull();
    expect(endpointOf('s', provider({ kind: 'scripted' }))).toBeNull();
    expect(endpointOf('k', provider({ kind: 'command', command: ['x'] }))).toBeNull();
  });
});
