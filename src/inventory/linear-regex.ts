// `~regex` host patterns, matched in time linear in the host name: JavaScript's
// own engine backtracks, so `~^(a+)+$` against a long name of a's would run for
// minutes. This is a Thompson NFA (as in RE2 and Go's regexp) over the part of
// the syntax a host pattern needs: literals, `.`, classes, escapes like \d,
// groups, `|`, `* + ? {n,m}` (lazy or not: only whether it matches counts),
// `^` and `$`. Backreferences and lookaround need backtracking and are refused.

type Test = (c: string) => boolean;
type Ast =
  | { t: 'char'; test: Test }
  | { t: 'cat'; items: Ast[] }
  | { t: 'alt'; options: Ast[] }
  | { t: 'rep'; node: Ast; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

type Op = { op: 'char'; test: Test } | { op: 'split'; x: number; y: number } | { op: 'jmp'; x: number } | { op: 'bol' } | { op: 'eol' } | { op: 'match' };

const MAX_PROGRAM = 10_000;
const MAX_COUNT = 1000;

export class RegexError extends Error {}

export interface LinearRegExp {
  /** true when the pattern matches a prefix of `s` (anchored at its start, like Python's re.match) */
  test(s: string): boolean;
}

export function compileLinear(source: string): LinearRegExp {
  try {
    new RegExp(source); // JavaScript's own syntax errors, in its own words
  } catch (e) {
    // "Invalid regular expression: /SOURCE/flags: reason": the reason alone (the source may be 10 000 characters)
    const message = (e as Error).message;
    throw new RegexError(message.startsWith('Invalid regular expression: /') ? message.slice(message.lastIndexOf(': ') + 2) : message);
  }
  const parser = new Parser(source);
  const ast = parser.alternation();
  if (parser.i < source.length) throw new RegexError(`unexpected ${JSON.stringify(source[parser.i])}`);
  const prog: Op[] = [];
  emit(ast, prog);
  prog.push({ op: 'match' });
  return { test: (s) => run(prog, s) };
}

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  alternation(): Ast {
    const options = [this.concat()];
    while (this.s[this.i] === '|') {
      this.i++;
      options.push(this.concat());
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private concat(): Ast {
    const items: Ast[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.repeat());
    return { t: 'cat', items };
  }

  private repeat(): Ast {
    let node = this.atom();
    for (;;) {
      const c = this.s[this.i];
      let min: number, max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.s.slice(this.i))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i))!;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > MAX_COUNT || (max !== Infinity && max > MAX_COUNT)) throw new RegexError(`a count over ${MAX_COUNT} in ${m[0]}`);
        this.i += m[0].length - 1;
      } else return node;
      this.i++;
      if (this.s[this.i] === '?') this.i++; // lazy: the same set of matches
      node = { t: 'rep', node, min, max };
    }
  }

  private atom(): Ast {
    const c = this.s[this.i++]!;
    if (c === '(') {
      if (this.s[this.i] === '?') {
        if (this.s[this.i + 1] !== ':') throw new RegexError('lookaround and named groups are not supported in a host pattern');
        this.i += 2;
      }
      const inner = this.alternation();
      this.i++; // ')': RegExp has checked the balance
      return inner;
    }
    if (c === '^') return { t: 'bol' };
    if (c === '$') return { t: 'eol' };
    if (c === '.') return { t: 'char', test: (x) => !/[\n\r\u2028\u2029]/.test(x) };
    if (c === '[') return { t: 'char', test: single(this.classText()) };
    if (c === '\\') return { t: 'char', test: this.escape() };
    return { t: 'char', test: (x) => x === c };
  }

  // `[...]` as written: a class tests one character, so JavaScript's engine may
  // evaluate it (nothing to backtrack over).
  private classText(): string {
    const start = this.i - 1;
    if (this.s[this.i] === '^') this.i++;
    while (this.s[this.i] !== ']') this.i += this.s[this.i] === '\\' ? 2 : 1;
    this.i++;
    return this.s.slice(start, this.i);
  }

  private escape(): Test {
    const c = this.s[this.i]!;
    if (/[1-9]/.test(c) || c === 'k') throw new RegexError('backreferences are not supported in a host pattern');
    if (c === 'b' || c === 'B') throw new RegexError(`\\${c} is not supported in a host pattern`);
    const m = /^(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|c[A-Za-z]|.)/s.exec(this.s.slice(this.i))!;
    this.i += m[0].length;
    return single(`\\${m[0]}`);
  }
}

function single(atom: string): Test {
  const re = new RegExp(`^${atom}$`);
  return (x) => re.test(x);
}

function emit(node: Ast, prog: Op[]): void {
  if (prog.length > MAX_PROGRAM) throw new RegexError('too complex for a host pattern');
  switch (node.t) {
    case 'char':
      prog.push({ op: 'char', test: node.test });
      return;
    case 'bol':
    case 'eol':
      prog.push({ op: node.t });
      return;
    case 'cat':
      node.items.forEach((n) => emit(n, prog));
      return;
    case 'alt': {
      const jumps: { op: 'jmp'; x: number }[] = [];
      node.options.forEach((n, k) => {
        const last = k === node.options.length - 1;
        const split = { op: 'split' as const, x: prog.length + 1, y: -1 };
        if (!last) prog.push(split);
        emit(n, prog);
        if (!last) {
          const j = { op: 'jmp' as const, x: -1 };
          jumps.push(j);
          prog.push(j);
          split.y = prog.length;
        }
      });
      jumps.forEach((j) => (j.x = prog.length));
      return;
    }
    case 'rep': {
      for (let k = 0; k < node.min; k++) emit(node.node, prog);
      if (node.max === Infinity) {
        const split = { op: 'split' as const, x: prog.length + 1, y: -1 };
        const top = prog.length;
        prog.push(split);
        emit(node.node, prog);
        prog.push({ op: 'jmp', x: top });
        split.y = prog.length;
        return;
      }
      const splits: { op: 'split'; x: number; y: number }[] = [];
      for (let k = node.min; k < node.max; k++) {
        const split = { op: 'split' as const, x: prog.length + 1, y: -1 };
        splits.push(split);
        prog.push(split);
        emit(node.node, prog);
      }
      splits.forEach((s) => (s.y = prog.length));
    }
  }
}

// Every thread advances one character at a time; a state is entered at most
// once per position, so the work is O(program length x name length).
function run(prog: Op[], s: string): boolean {
  let current: number[] = [];
  const seen = new Int32Array(prog.length).fill(-1);
  const add = (list: number[], pc0: number, pos: number): boolean => {
    const stack = [pc0];
    while (stack.length) {
      const pc = stack.pop()!;
      if (seen[pc] === pos) continue;
      seen[pc] = pos;
      const op = prog[pc]!;
      if (op.op === 'match') return true;
      if (op.op === 'jmp') stack.push(op.x);
      else if (op.op === 'split') stack.push(op.y, op.x);
      else if (op.op === 'bol') pos === 0 && stack.push(pc + 1);
      else if (op.op === 'eol') pos === s.length && stack.push(pc + 1);
      else list.push(pc);
    }
    return false;
  };
  if (add(current, 0, 0)) return true;
  for (let pos = 0; pos < s.length && current.length; pos++) {
    const next: number[] = [];
    const c = s[pos]!;
    for (const pc of current) {
      const op = prog[pc] as { op: 'char'; test: Test };
      if (op.test(c) && add(next, pc + 1, pos + 1)) return true;
    }
    current = next;
  }
  return false;
}
