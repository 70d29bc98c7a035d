/**
 * The host scripts as files (src/hosts/sh/): how they are loaded (header, includes, parameters), and that
 * the constants the TypeScript side parses by agree with the text of the scripts that print them.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  EXIT_CHANNEL,
  fillParams,
  loadScript,
  MOVED_SH,
  REAP_FN,
  REAP_SH,
  REDACT_AWK,
  refGuardHook,
  RUN_SH,
  STAGE_BUSY,
  STAGE_FOREIGN_SERVER,
  STAGE_NO_RECORD,
  STAGE_NO_SESSION,
  STAGE_SH,
  STATUS_SH,
  stripHeader,
  TMUX_FN,
} from '../../src/hosts/scripts.js';
import { quoteWord } from '../../src/hosts/quote.js';
import { NO_SERVER, PANE_FORMAT, SERVER_ENV_OK_ERE } from '../../src/hosts/tmux.js';

const files: Record<string, string> = {
  'main.sh':
    '#!/bin/sh\n# usage: main.sh\n# doc\nx=1\n. ./lib.sh # nightshift:include\n  V= # nightshift:param\nf "$x"\n',
  'lib.sh': '# lib doc\nf() { echo "$1"; }\n',
  'loop.sh': '. ./loop.sh # nightshift:include\n',
};
const read = (name: string) => {
  const text = files[name];
  if (text === undefined) throw new Error(`no ${name}`);
  return text;
};

describe('loading a host script', () => {
  it('drops the header comment, keeps the shebang, and inlines includes without their headers', () => {
    expect(loadScript('main.sh', read)).toBe(
      '#!/bin/sh\nx=1\nf() { echo "$1"; }\n  V= # nightshift:param\nf "$x"\n',
    );
    expect(stripHeader('# a\n# b\n\n# kept\nx\n')).toBe('\n# kept\nx\n');
  });

  it('refuses an include cycle', () => {
    expect(() => loadScript('loop.sh', read)).toThrow(/includes itself/);
  });

  it('sets parameters only as quoted words, which the shell reads back byte for byte', () => {
    const hostile = `it's $(touch /tmp/pwned) \`id\` "x"\n; rm -rf ~`;
    const script = fillParams(loadScript('main.sh', read), { V: hostile }) + 'printf %s "$V"\n';
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(r.stdout).toBe(`1\n${hostile}`);
  });

  it('refuses a missing or an unknown parameter', () => {
    const script = loadScript('main.sh', read);
    expect(() => fillParams(script, {})).toThrow(/V was not given/);
    expect(() => fillParams(script, { V: '', W: '' })).toThrow(/no parameter W/);
  });

  it('leaves no include or parameter line unresolved in what ships', () => {
    for (const s of [RUN_SH, REAP_SH, STAGE_SH, STATUS_SH, MOVED_SH, refGuardHook('/m', ['main'])]) {
      expect(s).not.toMatch(/# nightshift:(include|param)/);
    }
    expect(RUN_SH.startsWith('#!/bin/sh\n')).toBe(true);
    expect(RUN_SH).toContain(REAP_FN);
    expect(REAP_SH).toContain(REAP_FN);
    expect(STAGE_SH).toContain(TMUX_FN);
    expect(STATUS_SH).toContain(TMUX_FN);
  });

  it('gives run.sh the redaction program as one quoted word', () => {
    expect(RUN_SH).toContain(`\nNS_REDACT_AWK=${quoteWord(REDACT_AWK)}\n`);
    expect(RUN_SH).toContain('awk $AWK_OPTS "$NS_REDACT_AWK"');
  });

  it('refuses a main branch that could not be a ref name', () => {
    expect(() => refGuardHook('/m', ['main', 'a b'])).toThrow(/not a branch name/);
  });
});

describe('the scripts agree with the TypeScript that reads their output', () => {
  it('status.sh lists panes in PANE_FORMAT and knows NO_SERVER', () => {
    expect(STATUS_SH).toContain(`-F 'pane\t${PANE_FORMAT}'`);
    expect(STATUS_SH).toContain(`grep -Eqi '${NO_SERVER.source}'`);
  });

  it('stage.sh allows what SERVER_ENV_OK_ERE allows and exits with the STAGE_ statuses', () => {
    expect(STAGE_SH).toContain(`grep -Ev '${SERVER_ENV_OK_ERE}'`);
    for (const code of [STAGE_BUSY, STAGE_NO_SESSION, STAGE_NO_RECORD, STAGE_FOREIGN_SERVER]) {
      expect(STAGE_SH).toMatch(new RegExp(`exit ${code}\\b`));
    }
  });

  it('run.sh signals EXIT_CHANNEL', () => {
    expect(RUN_SH).toContain(`wait-for -S ${EXIT_CHANNEL} `);
  });
});
