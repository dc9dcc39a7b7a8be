// What parsing needs from the machine: the environment (`${VAR}`) and the tcp
// service names of /etc/services (`Port ssh`), read once.
import { readFileSync } from 'node:fs';

export interface ParseEnv {
  env: NodeJS.ProcessEnv;
  services: (name: string) => number | undefined;
}

let services: Map<string, number> | undefined;

function readServices(): Map<string, number> {
  const map = new Map<string, number>();
  let text = '';
  try { text = readFileSync('/etc/services', 'utf8'); } catch { /* no services file: numbers only */ }
  for (const l of text.split('\n')) {
    const m = /^([^#\s]+)\s+([0-9]+)\/tcp\b([^#]*)/.exec(l);
    if (!m) continue;
    for (const n of [m[1]!, ...m[3]!.trim().split(/\s+/).filter(Boolean)]) if (!map.has(n)) map.set(n, Number(m[2]));
  }
  return map;
}

export function defaultParseEnv(env: NodeJS.ProcessEnv = process.env): ParseEnv {
  return { env, services: (name) => (services ??= readServices()).get(name) };
}
