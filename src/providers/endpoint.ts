/**
 * `doctor`'s endpoint check: can a provider's host reach the model endpoint its executor talks to, and if
 * not, why — the name does not resolve, the connection is refused, TLS fails, or nothing answers in time.
 * A probe that fails says only what the CLI says ("Unable to connect to API (ConnectionRefused)"); this
 * names the URL, the cause and the command to try by hand. It runs curl on the host (where the executor
 * runs, not here), and judges only the transport: any HTTP status, 401 and 404 included, is an answer.
 */
import type { ProviderConfig } from '../config/schema.js';
import type { CommandRunner } from '../hosts/runner.js';
import { shownArgv } from '../hosts/quote.js';

/**
 * The endpoint a provider's executor uses, and the config field that sets it: the configured base URL, or
 * the CLI's default; null when nightshift cannot know it (a command's own business, the scripted agent).
 */
export function endpointOf(provider: string, cfg: ProviderConfig): { url: string; field: string } | null {
  const env = (name: string) => `providers.${provider}.env.${name}`;
  switch (cfg.kind) {
    case 'claude-code':
      return {
        url: cfg.env['ANTHROPIC_BASE_URL'] ?? 'https://api.anthropic.com',
        field: env('ANTHROPIC_BASE_URL'),
      };
    case 'codex':
    case 'opencode':
      return {
        url: cfg.env['OPENAI_BASE_URL'] ?? 'https://api.openai.com/v1',
        field: env('OPENAI_BASE_URL'),
      };
    case 'aider': {
      const name = ['OPENAI_API_BASE', 'ANTHROPIC_BASE_URL'].find((n) => cfg.env[n] !== undefined);
      return name ? { url: cfg.env[name] ?? '', field: env(name) } : null;
    }
    case 'command':
    case 'scripted':
      return null;
  }
}

/** The URL as shown: no user, password or query (either may carry a token). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return url;
  }
}

export type EndpointCause =
  'answered' | 'dns' | 'refused' | 'tls' | 'timeout' | 'no-curl' | 'bad-url' | 'other';

export interface EndpointVerdict {
  ok: boolean;
  cause: EndpointCause;
  detail: string;
}

/** Seconds curl may take to connect, and in all (the check's bound). */
export const CONNECT_TIMEOUT_S = 10;
export const MAX_TIME_S = 20;

/** The curl command, as an argv array: status code on stdout, curl's own error on stderr. */
export function curlArgv(url: string): string[] {
  return [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--connect-timeout',
    String(CONNECT_TIMEOUT_S),
    '--max-time',
    String(MAX_TIME_S),
    '--url',
    url,
  ];
}

/**
 * What curl's exit says about the endpoint (curl's documented exit codes: 6 resolve, 7 connect, 28
 * timeout, 35/51/53/54/58/59/60/64/66/77/80/82/83/90/91 TLS; 127 from the shell: no curl).
 */
export function judgeCurl(url: string, exitCode: number, stdout: string, stderr: string): EndpointVerdict {
  const shown = shownUrl(url);
  const said =
    stderr
      .trim()
      .split('\n')
      .at(-1)
      ?.replace(/^curl: /, '') ?? '';
  const because = said ? `: ${said}` : '';
  let host = shown;
  try {
    host = new URL(url).hostname;
  } catch {
    // judged below as curl saw it
  }
  if (exitCode === 0) {
    return { ok: true, cause: 'answered', detail: `${shown} answered (HTTP ${stdout.trim() || '?'})` };
  }
  if (exitCode === 127) {
    return {
      ok: false,
      cause: 'no-curl',
      detail: 'curl is not installed on the host, so the endpoint was not checked',
    };
  }
  if (exitCode === 3)
    return { ok: false, cause: 'bad-url', detail: `${shown} is not a URL curl accepts${because}` };
  // A resolver that never answers times out in curl (28) while it is still resolving: that is DNS too.
  if (exitCode === 6 || exitCode === 5 || (exitCode === 28 && /resolving timed out/i.test(said))) {
    return { ok: false, cause: 'dns', detail: `the name ${host} does not resolve (DNS)${because}` };
  }
  if (exitCode === 7) {
    return {
      ok: false,
      cause: 'refused',
      detail: `nothing accepts connections at ${shown} (refused or unreachable)${because}`,
    };
  }
  if (exitCode === 28) {
    return {
      ok: false,
      cause: 'timeout',
      detail: `${shown} did not answer within ${MAX_TIME_S} s${because}`,
    };
  }
  if ([35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91].includes(exitCode)) {
    return { ok: false, cause: 'tls', detail: `the TLS handshake with ${shown} failed${because}` };
  }
  return { ok: false, cause: 'other', detail: `curl exited ${exitCode} reaching ${shown}${because}` };
}

/** What to do about a verdict: the command to try by hand (`via` prefixes it, e.g. the ssh to the host). */
export function endpointFix(
  verdict: EndpointVerdict,
  url: string,
  field: string,
  via: string[],
): string | null {
  if (verdict.ok) return null;
  const byHand = shownArgv([...via, ...curlArgv(shownUrl(url))]);
  switch (verdict.cause) {
    case 'no-curl':
      return 'install curl on the host (apt-get install curl) to let doctor diagnose the endpoint';
    case 'dns':
      return `check the host name in ${field} and the host's DNS (/etc/resolv.conf); try: ${byHand}`;
    case 'refused':
      return `check the port and that the endpoint (or its proxy) is running; try: ${byHand}`;
    case 'tls':
      return `check http:// versus https:// in ${field}, the certificate and the host's CA store; try: ${byHand}`;
    case 'timeout':
      return `a firewall or proxy may be dropping the connection (HTTPS_PROXY?); try: ${byHand}`;
    case 'answered':
    case 'bad-url':
    case 'other':
      return `fix ${field}; try: ${byHand}`;
  }
}

/** Runs the check on a host. */
export async function checkEndpoint(runner: CommandRunner, url: string): Promise<EndpointVerdict> {
  const r = await runner
    .run(curlArgv(url), { timeoutMs: (MAX_TIME_S + 10) * 1000 })
    .catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: e instanceof Error ? e.message : String(e) }));
  // The runner reports a missing program as the shell does (127) or as a spawn error (ENOENT).
  const missing = r.exitCode === 127 || /ENOENT/.test(r.stderr);
  return judgeCurl(url, missing ? 127 : r.exitCode, r.stdout, r.stderr);
}
