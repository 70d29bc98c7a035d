/**
 * The tests command's structured report file (gates.tests.report) in a checkout of branch code: removed
 * before the command runs, so a report committed on the branch proves nothing, and read after it.
 *
 * The checkout is the branch's: any part of the report's path may be a symlink it committed or its tests
 * made. Nothing is removed or read through a symlink, and nothing outside the checkout.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { detectFormat, parseReport, ReportError, REPORT_LABEL, type ReportFormat } from './test-reports.js';
import type { TestResult } from './named-tests.js';

/** A report larger than this is not read (a runaway or hostile suite must not fill the daemon's memory). */
export const REPORT_MAX_BYTES = 64 * 1024 * 1024;

export interface ReportSpec {
  /** Relative to the checkout. */
  path: string;
  format: ReportFormat | 'auto';
}

export function reportSpec(config: Config): ReportSpec | null {
  const report = config.gates.tests?.report;
  if (!report) return null;
  return typeof report === 'string' ? { path: report, format: 'auto' } : report;
}

export type ReportRead =
  { ok: true; results: TestResult[]; format: ReportFormat } | { ok: false; why: string };

/**
 * The report's absolute path, when every directory on the way to it inside `checkout` is a real
 * directory (or absent); else why not.
 */
function locate(checkout: string, rel: string): { file: string } | { why: string } {
  const parts = rel.split(/[\\/]+/).filter((p) => p && p !== '.');
  if (path.isAbsolute(rel) || parts.length === 0 || parts.includes('..')) {
    return { why: `gates.tests.report must be a path inside the checkout; found ${JSON.stringify(rel)}` };
  }
  let dir = checkout;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (!stat) break;
    if (!stat.isDirectory())
      return { why: `${path.relative(checkout, dir)} is not a directory (a symlink?)` };
  }
  return { file: path.join(checkout, ...parts) };
}

/** Removes the report before a run. Returns why it could not, or null. */
export function removeReport(checkout: string, spec: ReportSpec): string | null {
  const where = locate(checkout, spec.path);
  if ('why' in where) return where.why;
  const stat = lstatSync(where.file, { throwIfNoEntry: false });
  if (!stat) return null;
  // A symlink is removed itself (rm never follows one); a directory in the report's place goes too.
  rmSync(where.file, { force: true, recursive: stat.isDirectory() && !stat.isSymbolicLink() });
  return null;
}

/** Reads and parses the report after a run. */
export function readReport(checkout: string, spec: ReportSpec): ReportRead {
  const where = locate(checkout, spec.path);
  if ('why' in where) return { ok: false, why: where.why };
  let fd: number;
  try {
    fd = openSync(where.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      why:
        code === 'ENOENT'
          ? 'the tests command did not write it'
          : code === 'ELOOP'
            ? 'it is a symlink'
            : `it cannot be opened (${code ?? 'error'})`,
    };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, why: 'it is not a regular file' };
    if (stat.size > REPORT_MAX_BYTES) {
      return { ok: false, why: `it is ${stat.size} bytes, more than the ${REPORT_MAX_BYTES} read` };
    }
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    const text = buffer.subarray(0, read).toString('utf8');
    const format = spec.format === 'auto' ? detectFormat(text) : spec.format;
    try {
      return { ok: true, results: parseReport(text, format), format };
    } catch (err) {
      if (err instanceof ReportError) {
        return { ok: false, why: `it is not a ${REPORT_LABEL[format]} report: ${err.message}` };
      }
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}
