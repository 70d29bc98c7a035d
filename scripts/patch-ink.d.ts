// Types of scripts/patch-ink.js, for the tests and test/setup/ink.ts.
export const INK_VERSION: string;
export const UPSTREAM_DIR: string;
export const STAMP: string;
export const UPSTREAM: Record<string, string>;
export const OURS: string[];
export class PatchInkError extends Error {
  code: 'INK_PATCH';
}
export function sha256(text: string): string;
export function inkBuildDir(from?: string): string;
export function patchedFiles(build: string, root?: string): Promise<Record<string, string>>;
export function unpatched(build?: string, root?: string): Promise<string[]>;
export function patchInk(build?: string, root?: string): Promise<string[]>;
