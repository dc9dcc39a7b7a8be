// The contract every transport and every wrapper keeps, as one mocha suite:
// contract.lab.test.ts runs it on the transports, contract-wrappers.lab.test.ts on the wrappers.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotRunError, UnreachableError, type Transport } from '../../src/transport/transport.js';

const HOSTILE = [
  'plain', 'with space', "single'quote", 'double"quote', '$(id)', '`id`', '; rm -rf /nonexistent', 'line\nbreak',
  '*', '', '\\', '$HOME', '&& exit 1', '| cat', '> /tmp/x', '~', '-n', '--', 'tab\there', 'héllo ✓', "'",
];

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export type Opened = {
  transport: Transport;
  cleanup(): Promise<void>;
  /** what a wrapper wraps: it must offer what that one offers */
  inner?: Transport;
  /** whether it answers freeBytes; a wrapper saying no where its inner one does must say why */
  freeBytes: true | { no: string };
};

// One behaviour for every transport and every wrapper: the steps above must
// not care which one runs them, nor what it is wrapped in.
export function contract(name: string, open: () => Promise<Opened>) {
  describe(`Transport contract: ${name}`, function () {
    this.timeout(60_000);
    let t: Transport;
    let opened: Opened;
    let dir: string;

    before(async () => {
      opened = await open();
      t = opened.transport;
      dir = await mkdtemp(join(tmpdir(), 'hotswap-contract-'));
    });
    after(async () => {
      await t?.close();
      await opened?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passes every hostile argument through byte-exact', async () => {
      for (const arg of HOSTILE) {
        const r = await t.exec(['printf', '%s', arg]);
        expect(r, JSON.stringify(arg)).to.deep.equal({ stdout: arg, stderr: '', code: 0 });
      }
      const all = await t.exec(['printf', '%s\\0', ...HOSTILE]);
      expect(all.stdout.split('\0').slice(0, -1)).to.deep.equal(HOSTILE);
    });

    it('reports exit codes, including 127 for a missing program and null for a signal', async () => {
      expect((await t.exec(['true'])).code).to.equal(0);
      expect((await t.exec(['false'])).code).to.equal(1);
      expect((await t.exec(['sh', '-c', 'exit 7'])).code).to.equal(7);
      expect((await t.exec(['/nonexistent/hotswap-no-such-program'])).code).to.equal(127);
      expect((await t.exec(['sh', '-c', 'kill -9 $$'])).code).to.equal(null);
    });

    it('keeps stdout and stderr apart', async () => {
      const r = await t.exec(['sh', '-c', 'printf out; printf err >&2']);
      expect(r).to.deep.equal({ stdout: 'out', stderr: 'err', code: 0 });
    });

    it('writes stdin then closes it, text and binary', async () => {
      expect((await t.exec(['cat'], { stdin: 'line 1\nline 2 ✓\n' })).stdout).to.equal('line 1\nline 2 ✓\n');
      const blob = randomBytes(300_000);
      const r = await t.exec(['sha256sum'], { stdin: blob });
      expect(r.stdout.split(' ')[0]).to.equal(sha256(blob));
      expect((await t.exec(['wc', '-c'])).stdout.trim()).to.equal('0'); // no stdin: EOF at once
    });

    it('rejects on timeout, kills the program and stays usable', async () => {
      const started = Date.now();
      let err: Error | undefined;
      await t.exec(['sleep', '10'], { timeoutMs: 300 }).catch((e: Error) => { err = e; });
      expect(err?.message).to.match(/timed out after 300 ms/);
      expect(Date.now() - started).to.be.below(3_000);
      expect((await t.exec(['printf', 'still here'])).stdout).to.equal('still here');
    });

    it('runs many commands at once over one transport', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => t.exec(['printf', '%s', String(i)])));
      expect(results.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 25 }, (_, i) => String(i)));
    });

    it('puts a 1.3 MB file byte-exact with mode 0600, also over an existing file', async () => {
      const data = randomBytes(1_300_000);
      const remote = join(dir, 'far side with space');
      await writeFile(remote, 'old', { mode: 0o755 });
      await t.put(data, remote);
      expect((await t.exec(['sha256sum', remote])).stdout.split(' ')[0]).to.equal(sha256(data));
      expect((await t.exec(['stat', '-c', '%a %s', remote])).stdout.trim()).to.equal(`600 ${data.length}`);
    });

    it('puts an empty file, and one byte, with mode 0600', async () => {
      for (const data of [Buffer.alloc(0), Buffer.from('x')]) {
        const remote = join(dir, `small-${data.length}`);
        await t.put(data, remote);
        expect((await t.exec(['stat', '-c', '%a %s', remote])).stdout.trim()).to.equal(`600 ${data.length}`);
      }
    });

    it('refuses a relative destination', async () => {
      let err: Error | undefined;
      await t.put(Buffer.from('x'), 'relative/path').catch((e: Error) => { err = e; });
      expect(err?.message).to.match(/absolute/);
    });

    it('offers freeBytes exactly when it says so, a wrapper as its inner transport does, answering the same', async () => {
      const { inner, freeBytes } = opened;
      if (freeBytes !== true) {
        expect(t.freeBytes, freeBytes.no).to.equal(undefined);
        return;
      }
      expect(t.freeBytes, 'freeBytes').to.be.a('function');
      if (inner) expect(inner.freeBytes, 'the inner transport has freeBytes').to.be.a('function');
      const free = await t.freeBytes!(dir);
      expect(free).to.be.a('number').above(0);
      if (inner) expect(Math.abs(free! - (await inner.freeBytes!(dir))!)).to.be.below(256 * 1024 * 1024);
      expect(await t.freeBytes!('/nonexistent/hotswap-no-such-dir')).to.equal(undefined);
    });

    it('runs a sequence: each command right after the one before, only if that one exited 0', async () => {
      expect(t.sequence, 'sequence').to.be.a('function');
      const flag = join(dir, 'sequence');
      const [first, second, third] = t.sequence([
        { argv: ['sh', '-c', 'sleep 0.2; printf done > "$1"', 'sh', flag] },
        { argv: ['cat', flag] },
        { argv: ['cat'], stdin: 'in ✓' },
      ]);
      expect((await first!).code).to.equal(0);
      expect((await second!).stdout).to.equal('done');
      expect((await third!).stdout).to.equal('in ✓');

      const results = t.sequence([
        { argv: ['sh', '-c', 'printf x > "$1"; exit 3', 'sh', flag] },
        { argv: ['sh', '-c', 'printf ran > "$1"', 'sh', flag] },
        { argv: ['cat'], stdin: 'not read' },
      ]);
      expect((await results[0]!).code).to.equal(3);
      for (const r of results.slice(1)) expect(await r.then(() => null, (e: Error) => e)).to.be.instanceOf(NotRunError);
      expect((await t.exec(['cat', flag])).stdout).to.equal('x');
      // a command with stdin first, then one without
      const [fed, after] = t.sequence([{ argv: ['sh', '-c', 'cat > "$1"', 'sh', flag], stdin: 'fed' }, { argv: ['cat', flag] }]);
      expect((await fed!).code).to.equal(0);
      expect((await after!).stdout).to.equal('fed');
      expect(t.sequence([])).to.deep.equal([]);
    });

    it('keeps a sequence together while other commands are given around it', async () => {
      const flag = join(dir, 'together');
      const other = t.exec(['sh', '-c', 'printf other > "$1"', 'sh', `${flag}.other`]);
      const seq = t.sequence([
        { argv: ['sh', '-c', 'sleep 0.2; printf a > "$1"', 'sh', flag] },
        { argv: ['sh', '-c', 'cat "$1"; printf b >> "$1"', 'sh', flag] },
      ]);
      const also = t.sequence([{ argv: ['false'] }, { argv: ['printf', 'not run'] }]);
      // a command given right after a sequence whose last did not run is not part of it: it runs
      const independent = t.exec(['printf', 'independent']);
      expect((await other).code).to.equal(0);
      expect((await seq[0]!).code).to.equal(0);
      expect((await seq[1]!).stdout).to.equal('a');
      expect((await also[0]!).code).to.equal(1);
      expect(await also[1]!.then(() => null, (e: Error) => e)).to.be.instanceOf(NotRunError);
      expect(await independent).to.deep.equal({ stdout: 'independent', stderr: '', code: 0 });
      expect((await t.exec(['cat', flag])).stdout).to.equal('ab');
    });

    it('times each command of a sequence from when the one before it is done', async () => {
      const [slow, quick] = t.sequence([
        { argv: ['sh', '-c', 'sleep 0.5; printf slow'], timeoutMs: 5_000 },
        { argv: ['printf', 'quick'], timeoutMs: 300 },
      ]);
      expect((await slow!).stdout).to.equal('slow');
      expect((await quick!).stdout).to.equal('quick');
      const [hung, next] = t.sequence([{ argv: ['sleep', '10'], timeoutMs: 300 }, { argv: ['true'] }]);
      expect(await hung!.then(() => null, (e: Error) => e.message)).to.match(/timed out after 300 ms/);
      expect(await next!.then(() => null, (e: Error) => e)).to.be.instanceOf(Error);
      expect((await t.exec(['printf', 'still here'])).stdout).to.equal('still here');
    });

    it('lets the caller leave later results of a sequence unread without an unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const listen = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', listen);
      try {
        const [first] = t.sequence([{ argv: ['false'] }, { argv: ['true'] }, { argv: ['true'] }]);
        expect((await first!).code).to.equal(1);
        await new Promise((r) => setTimeout(r, 100));
        expect(unhandled).to.deep.equal([]);
      } finally {
        process.off('unhandledRejection', listen);
      }
    });

    it('closes, and then refuses work as unreachable', async () => {
      await t.close();
      await t.close();
      let err: unknown;
      await t.exec(['true']).catch((e) => { err = e; });
      expect(err).to.be.instanceOf(UnreachableError);
    });
  });
}
