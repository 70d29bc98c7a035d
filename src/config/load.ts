/** Reads and validates nightshift.config.yaml. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, NightshiftError, SpecError, type SpecIssue } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { zodIssues } from './issues.js';
import { parseStrictYaml } from './yaml.js';
import type { WorkspacePaths } from './paths.js';

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
  return parseConfig(text, paths.configFile);
}

export function parseConfig(text: string, file: string): Config {
  const yaml = parseStrictYaml(text, { file, maxAliases: 32 });
  if (yaml.issues.length) throw new SpecError(yaml.issues, [], ErrorCode.invalidConfig);
  const result = configSchema.safeParse(yaml.value ?? {}, { reportInput: true });
  if (!result.success) {
    throw new SpecError(zodIssues(result.error, file, yaml.lineOf), [], ErrorCode.invalidConfig);
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
  if (issues.length) throw new SpecError(issues, [], ErrorCode.invalidConfig);
  return config;
}
