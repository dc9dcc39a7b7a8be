// Compares `nginx -V` of the running and the new build. A different prefix or
// conf path matters only where the master relies on the compiled default (no
// -p / -c on its command line): there it would read another config after USR2,
// so it refuses. Other differences in the configure arguments are warnings.
export interface BuildInfo {
  version?: string;
  args: Map<string, string>;
  flags: Set<string>;
}

export function parseNginxV(out: string): BuildInfo {
  const version = /nginx version: (\S+)/.exec(out)?.[1];
  const line = /configure arguments: (.*)/.exec(out)?.[1] ?? '';
  const args = new Map<string, string>();
  const flags = new Set<string>();
  // values can hold quoted spaces (--with-cc-opt='-g -O2 ...')
  for (const m of line.matchAll(/(--[\w-]+)(?:=('[^']*'|"[^"]*"|\S*))?/g)) {
    if (m[2] === undefined) flags.add(m[1]);
    else args.set(m[1], m[2].replace(/^['"]|['"]$/g, ''));
  }
  return { version, args, flags };
}

export function compareBuilds(running: BuildInfo, next: BuildInfo, master: { prefix?: string; conf?: string }): { refusals: string[]; warnings: string[] } {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const diff = (k: string) => running.args.get(k) !== next.args.get(k);
  if (!master.prefix && diff('--prefix')) refusals.push(`the new build's compiled --prefix is ${next.args.get('--prefix') ?? 'unset'}, the running one's ${running.args.get('--prefix') ?? 'unset'}, and the master has no -p: it would run from another prefix`);
  if (!master.conf && diff('--conf-path')) refusals.push(`the new build's compiled --conf-path is ${next.args.get('--conf-path') ?? 'unset'}, the running one's ${running.args.get('--conf-path') ?? 'unset'}, and the master has no -c: it would read another config`);
  const changed = [...new Set([...running.args.keys(), ...next.args.keys()])].filter(diff).filter((k) => !(k === '--prefix' && master.prefix) && !(k === '--conf-path' && master.conf));
  const flagsChanged = [...new Set([...running.flags, ...next.flags])].filter((f) => running.flags.has(f) !== next.flags.has(f));
  if (changed.length || flagsChanged.length) {
    warnings.push(`configure arguments differ: ${[...changed.map((k) => `${k}: ${running.args.get(k) ?? '(none)'} -> ${next.args.get(k) ?? '(none)'}`), ...flagsChanged.map((f) => `${next.flags.has(f) ? '+' : '-'}${f}`)].join('; ')}`);
  }
  return { refusals, warnings };
}
