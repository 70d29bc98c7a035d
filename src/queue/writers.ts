/**
 * Whether some process has a file open for writing, read from Linux's /proc: every process's fd links
 * that name the file, then those fds' flags (O_WRONLY or O_RDWR). It sees the processes this user may
 * inspect (all of them as root). Where /proc cannot tell (another OS), it answers null: unknown.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

const O_ACCMODE = 0o3;

export function hasOpenWriter(file: string): boolean | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  if (pids.length === 0) return null;
  const target = path.resolve(file);
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link !== target) continue;
      try {
        const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (flags && (parseInt(flags, 8) & O_ACCMODE) !== 0) return true;
      } catch {
        continue;
      }
    }
  }
  return false;
}
