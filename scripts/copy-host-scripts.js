// Copies the fixed host scripts (src/hosts/sh/*.sh, *.awk) next to the compiled code, where
// dist/hosts/scripts.js reads them (`npm run build` runs this after tsc). package.json ships dist/.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FROM = path.join(ROOT, 'src', 'hosts', 'sh');
const TO = path.join(ROOT, 'dist', 'hosts', 'sh');

rmSync(TO, { recursive: true, force: true });
mkdirSync(TO, { recursive: true });
const files = readdirSync(FROM).filter((f) => f.endsWith('.sh') || f.endsWith('.awk'));
if (files.length === 0) throw new Error(`copy-host-scripts: no scripts in ${FROM}`);
for (const f of files) copyFileSync(path.join(FROM, f), path.join(TO, f));
