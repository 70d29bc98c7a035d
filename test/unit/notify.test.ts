import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { realTimers } from '../../src/daemon/loop.js';
import { Notifier, resolveTargets, type Notice, type NotifierOptions } from '../../src/daemon/notify.js';
import { startNotifyServer, type NotifyServer } from '../../src/testing/notify-server.js';
import { waitFor } from '../../src/testing/wait.js';

const servers: NotifyServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(answer?: Parameters<typeof startNotifyServer>[0]) {
  const s = await startNotifyServer(answer);
  servers.push(s);
  return s;
}

function notifierFor(yaml: string, env: NodeJS.ProcessEnv, opts: NotifierOptions = {}) {
  const config = parseConfig(yaml, 'nightshift.config.yaml');
  const { targets, problems } = resolveTargets(config, env);
  const log: string[] = [];
  const gaveUp: string[] = [];
  const n = new Notifier(
    targets,
    {
      fetch: globalThis.fetch,
      timers: realTimers,
      now: () => Date.UTC(2026, 0, 2, 7),
      log: (l) => log.push(l),
      gaveUp: (target, notice, reason) => gaveUp.push(`${target} ${notice.kind} ${reason}`),
    },
    { backoffMs: 20, ...opts },
  );
  return { n, log, gaveUp, problems };
}

const notice: Notice = {
  kind: 'report',
  title: 'nightshift: the morning report',
  text: '3 merged, 1 failed <!channel> & more',
  link: 'https://ci.example/report/1',
};

describe('notifications', () => {
  it('a webhook gets the notice as JSON', async () => {
    const s = await server();
    const { n } = notifierFor('notify: [{ kind: webhook, urlEnv: HOOK_URL }]\n', {
      HOOK_URL: `${s.url}/hook`,
    });
    n.send(notice);
    await waitFor('the webhook request', () => s.requests[0]);
    const req = s.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      source: 'nightshift',
      kind: 'report',
      title: notice.title,
      text: notice.text,
      link: notice.link,
      time: '2026-01-02T07:00:00.000Z',
    });
  });

  it('Slack gets {"text": …} with its escapes (no @channel from a title)', async () => {
    const s = await server();
    const { n } = notifierFor('notify: [{ kind: slack, urlEnv: SLACK_URL }]\n', {
      SLACK_URL: `${s.url}/services/T000/B000/XXXXSECRET`,
    });
    n.send(notice);
    await waitFor('the slack request', () => s.requests[0]);
    const body = JSON.parse(s.requests[0]!.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['text']);
    expect(body['text']).toBe(
      '*nightshift: the morning report*\n3 merged, 1 failed &lt;!channel&gt; &amp; more\nhttps://ci.example/report/1',
    );
  });

  it('ntfy gets a text body with Title, Tags, Click and the bearer token, on its topic', async () => {
    const s = await server();
    const { n } = notifierFor(
      'notify: [{ kind: ntfy, urlEnv: NTFY_URL, topic: night-ops, tokenEnv: NTFY_TOKEN }]\n',
      { NTFY_URL: `${s.url}/`, NTFY_TOKEN: 'tk_abcdef123456' },
    );
    n.send({ ...notice, title: 'réport\nline two' });
    await waitFor('the ntfy request', () => s.requests[0]);
    const req = s.requests[0]!;
    expect(req.url).toBe('/night-ops');
    expect(req.body).toBe(notice.text);
    expect(req.headers['title']).toBe('r?port?line two');
    expect(req.headers['tags']).toBe('nightshift,report');
    expect(req.headers['click']).toBe(notice.link);
    expect(req.headers['authorization']).toBe('Bearer tk_abcdef123456');
  });

  it('only the kinds in `events` reach a notifier', async () => {
    const s = await server();
    const { n } = notifierFor('notify: [{ kind: webhook, urlEnv: H, events: [parked] }]\n', { H: s.url });
    n.send(notice);
    n.send({ kind: 'parked', title: 't', text: 'x' });
    await waitFor('the parked notice', () => s.requests[0]);
    await n.flush(5000);
    expect(s.requests.map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual(['parked']);
  });

  it('a 500 is retried with backoff until a 200', async () => {
    const s = await server((i) => (i < 2 ? 500 : 200));
    const { n, log, gaveUp } = notifierFor('notify: [{ kind: webhook, urlEnv: H }]\n', { H: s.url });
    n.send(notice);
    await waitFor('three tries', () => s.requests.length >= 3);
    await n.flush(5000);
    expect(s.requests).toHaveLength(3);
    expect(log.filter((l) => l.includes('failed (HTTP 500)'))).toHaveLength(2);
    expect(gaveUp).toEqual([]);
  });

  it('a server that never answers times out, is given up once, and holds up no other notifier', async () => {
    const hang = await server(() => 'hang');
    const ok = await server();
    const { n, gaveUp } = notifierFor(
      'notify: [{ kind: webhook, urlEnv: SLOW, timeout: 300ms }, { kind: webhook, urlEnv: FAST }]\n',
      { SLOW: hang.url, FAST: ok.url },
      { maxTries: 2 },
    );
    n.send(notice); // returns at once: nothing here awaits the hanging request
    n.send({ ...notice, title: 'second' });
    await waitFor('both notices on the healthy notifier', () => ok.requests.length === 2);
    expect(hang.requests.length).toBeGreaterThanOrEqual(1);
    await waitFor('the hanging notifier given up', () => gaveUp.length === 2, 30_000);
    expect(gaveUp[0]).toMatch(
      /notify\[0\] \(webhook, SLOW\) report gave up .* after 2 tries; last: no answer within 300 ms/,
    );
  });

  it('never names a URL: failures and problems name the notifier and its variable', async () => {
    const s = await server(() => 503);
    const secretUrl = `${s.url}/services/T0/B0/tok-9f8e7d6c5b4a`;
    const { n, log, gaveUp, problems } = notifierFor(
      'notify: [{ kind: slack, urlEnv: SLACK_URL }, { kind: webhook, urlEnv: UNSET_URL }]\n',
      { SLACK_URL: secretUrl },
      { maxTries: 2 },
    );
    expect(problems).toEqual([
      'notify[1] (webhook, UNSET_URL): the environment variable UNSET_URL is not set; set it to the URL',
    ]);
    n.send(notice);
    await waitFor('given up', () => gaveUp.length === 1);
    const all = [...log, ...gaveUp, ...problems].join('\n');
    expect(all).toContain('notify[0] (slack, SLACK_URL)');
    expect(all).not.toContain('tok-9f8e7d6c5b4a');
    expect(all).not.toContain(s.url);
  });

  it('a refused connection is a network error by code, and send never throws', async () => {
    const s = await server();
    const url = s.url;
    await s.close();
    servers.splice(0);
    const { n, gaveUp } = notifierFor(
      'notify: [{ kind: webhook, urlEnv: H }]\n',
      { H: `${url}/x?token=abc123456` },
      { maxTries: 1 },
    );
    expect(() => n.send(notice)).not.toThrow();
    await waitFor('given up', () => gaveUp.length === 1);
    expect(gaveUp[0]).toMatch(/network error \(ECONNREFUSED\)/);
    expect(gaveUp[0]).not.toContain('abc123456');
  });

  it('cuts a huge text and keeps the queue bounded', async () => {
    const s = await server(() => 'hang');
    const { n, log } = notifierFor(
      'notify: [{ kind: webhook, urlEnv: H, timeout: 60s }]\n',
      { H: s.url },
      { maxQueue: 3 },
    );
    n.send({ ...notice, text: 'x'.repeat(5_000_000) });
    await waitFor('the first request', () => s.requests[0]);
    expect((JSON.parse(s.requests[0]!.body) as { text: string }).text.length).toBeLessThanOrEqual(3000);
    for (let i = 0; i < 5; i++) n.send({ ...notice, title: `t${i}` });
    expect(log.filter((l) => l.includes('queue full'))).toHaveLength(3);
    n.close();
  });
});
