/**
 * A loopback HTTP server (127.0.0.1, a free port) standing in for a webhook, Slack or ntfy: it records
 * every request and answers as `answer` says — a status code, or 'hang' (never answers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface NotifyServer {
  url: string;
  requests: Recorded[];
  /** Decides each answer in turn (the request's index from 0). */
  answer: (i: number, req: Recorded) => number | 'hang';
  close(): Promise<void>;
}

export async function startNotifyServer(
  answer: (i: number, req: Recorded) => number | 'hang' = () => 200,
): Promise<NotifyServer> {
  const hanging: http.ServerResponse[] = [];
  const state: NotifyServer = {
    url: '',
    requests: [],
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const i = state.requests.length;
      state.requests.push(rec);
      const a = state.answer(i, rec);
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(a < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
