/** Reads and validates nightshift.config.yaml. */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, NightshiftError, SpecError, type SpecIssue } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { zodIssues } from './issues.js';
import { parseStrictYaml } from './yaml.js';
import { resolveRepoPath, type WorkspacePaths } from './paths.js';

const MAX_CONFIG_BYTES = 1024 * 1024;

export function loadConfig(paths: WorkspacePaths): Config {
  let text: string;
  try {
    const buf = readFileSync(paths.configFile);
    if (buf.length > MAX_CONFIG_BYTES) {
      throw new SpecError(
        [{ file: paths.configFile, message: 'config file is over 1 MiB' }],
        [],
        ErrorCode.invalidConfig,
      );
    }
    text = buf.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NightshiftError(
        ErrorCode.noWorkspace,
        `no ${path.basename(paths.configFile)} in ${paths.root}`,
        {
          file: paths.configFile,
          hint: `run \`nightshift init ${paths.root}\`, or pass --workspace <dir> (or set NIGHTSHIFT_WORKSPACE)`,
        },
      );
    }
    throw err;
  }
  return parseConfig(text, paths.configFile, { root: paths.root, home: os.homedir() });
}

/**
 * Where the config's local file paths are resolved: `~/` against `home`, relative paths against the
 * workspace `root`. Each must name an existing file (`isFile` is a seam for tests).
 */
export interface ConfigPlace {
  root: string;
  home: string;
  isFile?: (file: string) => boolean;
}

export function parseConfig(text: string, file: string, place?: ConfigPlace): Config {
  const yaml = parseStrictYaml(text, { file, maxAliases: 32 });
  if (yaml.issues.length) throw new SpecError(yaml.issues, [], ErrorCode.invalidConfig);
  const result = configSchema.safeParse(yaml.value ?? {}, { reportInput: true });
  if (!result.success) {
    throw new SpecError(
      zodIssues(result.error, file, yaml.lineOf, 'docs/configuration.md'),
      [],
      ErrorCode.invalidConfig,
    );
  }
  const config = result.data;
  const issues: SpecIssue[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    provider.hosts.forEach((host, i) => {
      if (!(host in config.hosts)) {
        const line = yaml.lineOf(['providers', name, 'hosts', i]);
        issues.push({
          file,
          ...(line ? { line } : {}),
          field: `providers.${name}.hosts[${i}]`,
          message: `unknown host "${host}"; define it under hosts: (known: ${Object.keys(config.hosts).join(', ') || 'none'})`,
        });
      }
    });
  }
  if (place) issues.push(...resolveHostFiles(config, file, place, yaml.lineOf));
  if (issues.length) throw new SpecError(issues, [], ErrorCode.invalidConfig);
  return config;
}

/**
 * ssh hosts' `sshConfig` and `identityFile` are files on this machine that ssh opens as given, and ssh
 * expands no `~` in `-F`: they are made absolute here (in `config`), and must exist.
 */
function resolveHostFiles(
  config: Config,
  file: string,
  place: ConfigPlace,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
): SpecIssue[] {
  const isFile = place.isFile ?? ((p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() === true);
  const issues: SpecIssue[] = [];
  for (const [name, host] of Object.entries(config.hosts)) {
    if (host.kind !== 'ssh') continue;
    for (const key of ['sshConfig', 'identityFile'] as const) {
      const given = host[key];
      if (given === undefined) continue;
      const resolved = resolveRepoPath(place.root, given, place.home);
      if (isFile(resolved)) {
        host[key] = resolved;
        continue;
      }
      const line = lineOf(['hosts', name, key]);
      issues.push({
        file,
        ...(line ? { line } : {}),
        field: `hosts.${name}.${key}`,
        message: `host ${name}: no file at ${resolved}${resolved === given ? '' : ` (from ${JSON.stringify(given)}: ~/ is your home, a relative path is from the workspace)`}; create it or fix the path`,
      });
    }
  }
  return issues;
}
