// Reading the line format the host scripts print (src/remote/*.sh, lib/kv.sh):
//   first line `#hotswap-<kind> 1`, last line `end`, `key value` in between;
//   keys ending in `_s` carry a string (`=text` or `%hex`), keys ending in
//   `_hex` raw bytes as hex (blanks between bytes allowed); `proc <scope> <pid>` opens a
//   process block whose fields are the following `p.<field>` lines.

export class ScriptOutputError extends Error {
  constructor(message: string, readonly output: string) {
    super(message);
    this.name = 'ScriptOutputError';
  }
}

export interface RawProc {
  scope: string;
  pid: number;
  fields: Map<string, string>;
}

export interface RawOutput {
  /** global keys; a repeated key keeps every value in order */
  values: Map<string, string[]>;
  procs: RawProc[];
}

export function parseLines(stdout: string, kind: string): RawOutput {
  const lines = stdout.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = `#hotswap-${kind} 1`;
  const start = lines.indexOf(header);
  if (start < 0) throw new ScriptOutputError(`not ${kind} script output (no "${header}" line)`, stdout);
  if (lines[lines.length - 1] !== 'end') {
    throw new ScriptOutputError(`${kind} script output is truncated (no "end" line)`, stdout);
  }
  const values = new Map<string, string[]>();
  const procs: RawProc[] = [];
  let current: RawProc | null = null;
  for (const line of lines.slice(start + 1, -1)) {
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? '' : line.slice(sp + 1);
    if (key === 'proc') {
      const m = /^(\S+) (\d+)$/.exec(value);
      if (!m) throw new ScriptOutputError(`bad proc line: ${line}`, stdout);
      current = { scope: m[1]!, pid: Number(m[2]), fields: new Map() };
      procs.push(current);
    } else if (key.startsWith('p.')) {
      if (!current) throw new ScriptOutputError(`process field outside a proc block: ${line}`, stdout);
      current.fields.set(key.slice(2), value);
    } else {
      current = null;
      const list = values.get(key);
      if (list) list.push(value);
      else values.set(key, [value]);
    }
  }
  return { values, procs };
}

/** Hex bytes, possibly separated by blanks (`od -An -tx1` as the scripts print it). */
export function hexToBuffer(hex: string): Buffer {
  hex = hex.replace(/ /g, '');
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`bad hex: ${hex.slice(0, 40)}`);
  return Buffer.from(hex, 'hex');
}

export function hexToString(hex: string): string {
  return hexToBuffer(hex).toString('utf8');
}

/** A `_s` value: `=text` as is, `%hex` for anything not printable ASCII. */
export function decodeStr(v: string): string {
  if (v.startsWith('=')) return v.slice(1);
  if (v.startsWith('%')) return hexToString(v.slice(1));
  throw new Error(`bad string value: ${v.slice(0, 40)}`);
}

/** An integer value, or undefined when absent or not a number. */
export function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/**
 * /proc/PID/cmdline as argv. Arguments are NUL-terminated. A process that
 * rewrote its title (nginx) leaves one string followed by NUL padding, so
 * trailing empty strings are dropped for those.
 */
export function cmdlineToArgv(buf: Buffer): string[] {
  if (buf.length === 0) return [];
  const parts = buf.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  if (parts[0]?.startsWith('nginx: ')) {
    while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  }
  return parts;
}
