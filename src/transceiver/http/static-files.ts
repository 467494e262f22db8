// Serves the demo page (web/) from the transceiver's HTTP port, so `parley dev` needs one URL
// and the page calls the signaling API on its own origin. Read-only, GET/HEAD, a fixed set of
// content types; paths are checked segment by segment, so nothing outside the folder is
// reachable (no `..`, no dot-files, no encoded separators). Not a general web server.
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

/** The file for a URL path, or undefined when there is none (the caller answers 404). */
export async function readStatic(root: string, urlPath: string): Promise<StaticFile | undefined> {
  const rel = urlPath === '/' ? 'index.html' : urlPath.slice(1);
  const segments = rel.split('/');
  if (segments.length > 4 || !segments.every((s) => SEGMENT.test(s))) return undefined;
  const ext = rel.slice(rel.lastIndexOf('.'));
  const type = TYPES[ext];
  if (!type) return undefined;
  const base = resolve(root);
  const file = resolve(join(base, ...segments));
  if (!file.startsWith(base + sep)) return undefined;
  try {
    return { type, body: await readFile(file) };
  } catch {
    return undefined;
  }
}
