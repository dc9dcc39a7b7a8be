// Bastion connections shared by the hosts of a run: one SSH connection per
// jump chain, opened on first use, closed when the last host using it closes.
import type { Duplex } from 'node:stream';
import type { SshConnection } from '../transport/ssh.js';
import { UnreachableError, type Transport } from '../transport/transport.js';
import type { HopPlan } from './ssh-plan.js';

/** Opens one hop, over `sock` (a channel of the previous hop) when given. */
export type HopConnector = (hop: HopPlan, sock: Duplex | undefined, via: string | undefined) => Promise<SshConnection>;

interface Entry {
  key: string;
  conn: Promise<SshConnection>;
  refs: number;
  /** the chain up to the previous hop, held while this one is open */
  parent: Entry | null;
}

export interface Channel {
  sock: Duplex;
  /** the last bastion, for messages */
  via: string;
  /** call when the connection over `sock` is closed */
  release(): Promise<void>;
}

// Why: hosts of a run behind the same bastion(s) reuse one verified connection
// to each hop (like OpenSSH's ControlMaster), and the last host out closes it.
export class BastionPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly open: HopConnector) {}

  // Why: a fleet behind one bastion should not log in to it once per host; a
  // chain is shared while it is alive, and each hop is verified when opened.
  /** A stream to `address:port` opened by the last of `jumps`. Errors name the bastion, not the host. */
  async channelTo(jumps: HopPlan[], address: string, port: number): Promise<Channel> {
    const { sock, via, entry } = await this.openChannel(jumps, address, port);
    return { sock, via, release: () => this.release(entry) };
  }

  private async openChannel(jumps: HopPlan[], address: string, port: number): Promise<{ sock: Duplex; via: string; entry: Entry }> {
    const entry = await this.acquire(jumps);
    const hop = jumps[jumps.length - 1]!;
    try {
      const bastion = await entry.conn;
      const sock = await bastion.openTcp(address, port).catch((e: Error) => {
        throw new Error(`bastion ${hop.label} (${hop.address}:${hop.port}) cannot connect to ${address}:${port}: ${e.message.replace(/^.*? from the host: /, '')}`);
      });
      return { sock, via: hop.label, entry };
    } catch (e) {
      await this.release(entry);
      throw e;
    }
  }

  private async acquire(jumps: HopPlan[]): Promise<Entry> {
    const key = JSON.stringify(jumps);
    for (let attempt = 0; ; attempt++) {
      let entry = this.entries.get(key);
      if (entry) entry.refs++;
      else {
        entry = this.create(key, jumps);
        this.entries.set(key, entry);
      }
      let conn: SshConnection;
      try {
        conn = await entry.conn;
      } catch (e) {
        this.forget(entry);
        throw e;
      }
      const lost = conn.lostReason();
      if (lost === null) return entry;
      // dropped since it was opened: open a new one for this host and later ones
      this.forget(entry);
      await this.release(entry);
      if (attempt > 0) throw new Error(`bastion ${jumps[jumps.length - 1]!.label}: ${lost}`);
    }
  }

  private create(key: string, jumps: HopPlan[]): Entry {
    const hop = jumps[jumps.length - 1]!;
    const before = jumps.slice(0, -1);
    const entry: Entry = { key, refs: 1, parent: null, conn: Promise.resolve(null as never) };
    const named = (e: Error) => { throw new Error(`bastion ${e instanceof UnreachableError ? e.message : `${hop.label}: ${e.message}`}`); };
    entry.conn = (async () => {
      if (!before.length) return this.open(hop, undefined, undefined).catch(named);
      const through = await this.openChannel(before, hop.address, hop.port);
      try {
        const conn = await this.open(hop, through.sock, through.via).catch(named);
        entry.parent = through.entry;
        return conn;
      } catch (e) {
        await this.release(through.entry);
        throw e;
      }
    })();
    entry.conn.catch(() => undefined); // awaited by acquire; never an unhandled rejection
    return entry;
  }

  private forget(entry: Entry): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  private async release(entry: Entry): Promise<void> {
    if (--entry.refs > 0) return;
    this.forget(entry);
    await entry.conn.then((c) => c.close(), () => undefined);
    if (entry.parent) await this.release(entry.parent);
  }
}


/**
 * The host's transport, closing which also lets go of its bastions. The
 * transport itself is returned with only its close() extended, so it keeps
 * every method it has (freeBytes, sequence, ...): a wrapper object listing
 * methods drops the ones added later, and a missing freeBytes silently turns
 * off the early upload behind a bastion.
 */
export function releasingBastions<T extends Transport>(t: T, release: () => Promise<void>): T {
  const close = t.close.bind(t);
  let released = false;
  t.close = async () => {
    try {
      await close();
    } finally {
      if (!released) {
        released = true;
        await release();
      }
    }
  };
  return t;
}
