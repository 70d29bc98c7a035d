/**
 * cli/command-table.ts: the names it routes by are the commands each module registers, in help's order,
 * and a command line loads the module it names, everything for help or a word that is no command.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, commandsFor } from '../../src/cli/command-table.js';
import { makeContext } from '../../src/cli/context.js';
import { ManualClock } from '../../src/lib/clock.js';

const io = {
  stdout: () => {},
  stderr: () => {},
  cwd: '/',
  env: {},
  clock: new ManualClock(0),
};

describe('the command table', () => {
  it('names exactly the commands each module registers', async () => {
    for (const m of COMMAND_MODULES) {
      const program = new Command('nightshift');
      (await m.load())(makeContext(io, program));
      expect(program.commands.map((c) => c.name())).toEqual(m.names);
    }
  });

  it('names each command once', () => {
    const names = COMMAND_MODULES.flatMap((m) => m.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('routes a command line to the module of its command, past the program options', () => {
    const ls = COMMAND_MODULES.find((m) => m.names.includes('ls'));
    const requests = COMMAND_MODULES.find((m) => m.names.includes('retry'));
    expect(commandsFor(['ls'])).toBe(ls);
    expect(commandsFor(['-w', 'ws', 'ls', '--json'])).toBe(ls);
    expect(commandsFor(['--workspace', 'ws', 'ls'])).toBe(ls);
    expect(commandsFor(['--workspace=ws', 'ls', '--help'])).toBe(ls);
    expect(commandsFor(['-wws', '--no-tmux', 'ls'])).toBe(ls);
    expect(commandsFor(['retry', 'x'])).toBe(requests);
  });

  it('loads every command for help, `help`, an unknown word or an unknown option', () => {
    for (const argv of [
      ['--help'],
      ['-h'],
      ['help'],
      ['help', 'ls'],
      ['lss'],
      ['--bogus', 'ls'],
      ['-hw'],
      ['--', 'ls'],
      ['-V', 'ls'],
    ])
      expect(commandsFor(argv), argv.join(' ')).toBe('all');
  });

  it('loads none for the bare program or the version alone', () => {
    expect(commandsFor([])).toBe('bare');
    expect(commandsFor(['-w', 'ws', '--daemon', '--once'])).toBe('bare');
    expect(commandsFor(['-V'])).toBe('version');
    expect(commandsFor(['-w', 'ws', '--version'])).toBe('version');
  });
});
