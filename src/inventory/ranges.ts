// A host entry in an inventory file: `name`, `name:port`, `[v6::addr]:port`, with
// Ansible's ranges `web[01:10:2]` (zero padding kept) and `db-[a:c]`.
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MAX_HOSTS = 100_000;

// Expands one entry to host names; throws an Error whose message says what is wrong.
export function expandHostEntry(entry: string): { names: string[]; port?: number } {
  let name = entry;
  let port: string | undefined;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^((?:[^:[\]]|\[[^\]]*\])+):(\d+)$/.exec(entry);
  if (m) [, name, port] = m;
  else if (entry.endsWith(':')) throw new Error(`host "${entry}" ends in ':', which must be followed by a port`);
  else if (/^[^[]*:/.test(entry.replace(/\[[^\]]*\]/g, '')) && !/^[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(%\S+)?$/.test(entry)) {
    throw new Error(`host "${entry}": the part after ':' must be a port number`);
  }
  const p = port === undefined ? undefined : Number(port);
  if (p !== undefined && !(p >= 1 && p <= 65535)) throw new Error(`host "${entry}": port ${port} is not in 1-65535`);
  if (!name) throw new Error('a host name is empty');
  if (name === '---') throw new Error(`host "---" is a YAML document marker: name a YAML inventory .yml or .yaml`);
  return { names: expand(name, entry), port: p };
}

function expand(name: string, entry: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) {
    if (name.includes(']')) throw new Error(`host "${entry}" has a ']' without '['`);
    return [name];
  }
  const close = name.indexOf(']', open);
  if (close < 0) throw new Error(`host "${entry}" has a '[' without ']'`);
  const [head, body, tail] = [name.slice(0, open), name.slice(open + 1, close), name.slice(close + 1)];
  const bad = (why: string) => new Error(`bad range [${body}] in host "${entry}": ${why}`);
  const bounds = body.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw bad('expected [begin:end] or [begin:end:step]');
  const [beg, end, stepText] = [bounds[0] || '0', bounds[1], bounds[2] ?? '1'];
  if (!end) throw bad('the end is missing');
  if (!/^[1-9][0-9]*$/.test(stepText)) throw bad('the step must be a positive integer');
  const step = Number(stepText);
  let items: string[];
  if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
    const [i, j] = [LETTERS.indexOf(beg), LETTERS.indexOf(end)];
    if (i > j) throw bad('begin comes after end');
    items = [...LETTERS.slice(i, j + 1)].filter((_, k) => k % step === 0);
  } else if (/^[0-9]+$/.test(beg) && /^[0-9]+$/.test(end)) {
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) throw bad('a zero-padded begin and its end must have the same width');
    const [i, j] = [Number(beg), Number(end)];
    if (i > j) throw bad('begin is greater than end');
    if ((j - i) / step >= MAX_HOSTS) throw bad(`expands to more than ${MAX_HOSTS} hosts`);
    items = [];
    for (let k = i; k <= j; k += step) items.push(String(k).padStart(width, '0'));
  } else {
    throw bad('begin and end must both be numbers or both be single letters');
  }
  const rest = expand(tail, entry);
  if (items.length * rest.length > MAX_HOSTS) throw bad(`expands to more than ${MAX_HOSTS} hosts`);
  return items.flatMap((item) => rest.map((r) => head + item + r));
}
