/**
 * The config keys that reach outside the workspace and bound the night in time: `notify` (where
 * notices go: a generic JSON webhook, a Slack-compatible incoming webhook, ntfy) and `window` (the
 * night window). Their URLs may hold tokens: a notifier names the environment variable that holds its
 * URL (`urlEnv`), never the URL itself, and config/secrets.ts treats those variables as secrets.
 */
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { windowProblem } from '../core/window.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/** The notices a notifier can be sent (daemon/notify.ts, Notice['kind']). */
export const NOTICE_KINDS = [
  'report',
  'breaker-open',
  'parked',
  'daemon-stopped',
  'budget',
  'window-ended',
  'test',
] as const;

const timeoutSchema = z
  .string()
  .refine((v) => parseDuration(v) !== null, { message: 'expected a duration like "10s" or "1m"' })
  .default('10s');

const common = {
  /** Which notices this notifier gets (default: all). */
  events: z.array(z.enum(NOTICE_KINDS)).min(1).optional(),
  /** Per request. */
  timeout: timeoutSchema,
};

const httpsOrHttp = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), { message: 'expected an http:// or https:// URL' });

export const notifierSchema = z.discriminatedUnion('kind', [
  /** A generic JSON POST of the notice ({ kind, title, text, link?, workspace, time }). */
  z.strictObject({ kind: z.literal('webhook'), urlEnv: envName, ...common }),
  /** A Slack-compatible incoming webhook: { "text": … }. */
  z.strictObject({ kind: z.literal('slack'), urlEnv: envName, ...common }),
  /**
   * ntfy: a text body with Title, Tags and Click headers, POSTed to `url` (or the URL in `urlEnv`) plus
   * `/topic` when a topic is given; `tokenEnv` names a variable holding a bearer token.
   */
  z
    .strictObject({
      kind: z.literal('ntfy'),
      urlEnv: envName.optional(),
      url: httpsOrHttp.optional(),
      topic: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an ntfy topic: 1-64 of A-Z, a-z, 0-9, "_", "-"')
        .optional(),
      tokenEnv: envName.optional(),
      ...common,
    })
    .refine((n) => (n.url === undefined) !== (n.urlEnv === undefined), {
      message: 'an ntfy notifier needs exactly one of url and urlEnv (urlEnv when the URL holds a token)',
    }),
]);

export type NotifierConfig = z.output<typeof notifierSchema>;

export const notifySchema = z.array(notifierSchema).default([]);

export const windowSchema = z
  .strictObject({
    /** Local "HH:MM" (the supervisor's TZ): new attempts start from here… */
    start: z.string(),
    /** …until here; running work may go on… */
    stopStarting: z.string(),
    /** …until here, when what still runs is salvaged and parked `window-ended`. */
    end: z.string(),
    /** An IANA time zone (`Europe/Paris`) the three times are in; default the supervisor's own (TZ). */
    timeZone: z.string().min(1).optional(),
  })
  .superRefine((w, ctx) => {
    const problem = windowProblem(w);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    if (w.timeZone !== undefined && !validTimeZone(w.timeZone))
      ctx.addIssue({
        code: 'custom',
        path: ['timeZone'],
        message: `unknown time zone ${JSON.stringify(w.timeZone)}; expected an IANA name like "Europe/Paris" or "UTC"`,
      });
  })
  .nullable()
  .default(null);

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
