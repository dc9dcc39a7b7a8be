// The upload over SFTP: one session per connection, the windowed write of a
// file, and statvfs (free space) asked of the sftp-server, not of a process.

import type { Ssh2Client } from './ssh2.js';

// The few ssh2 SFTP shapes used here (ssh2 ships no types in this repo).
export type Sftp = {
  once(ev: 'close', cb: () => void): void;
  removeListener(ev: 'close', cb: () => void): void;
  open(path: string, flags: string, attrs: { mode: number }, cb: (err: Error | undefined, handle: Buffer) => void): void;
  fchmod(handle: Buffer, mode: number, cb: (err?: Error) => void): void;
  write(handle: Buffer, data: Buffer, offset: number, length: number, position: number, cb: (err?: Error) => void): void;
  close(handle: Buffer, cb: (err?: Error) => void): void;
  /** OpenSSH's statvfs@openssh.com; throws at once when the server does not offer it */
  ext_openssh_statvfs(path: string, cb: (err: Error | undefined, st: { f_frsize: number | bigint; f_bavail: number | bigint }) => void): void;
  /** the largest WRITE the server takes (OpenSSH's limits@openssh.com), as ssh2 learnt it */
  _maxWriteLen?: number;
};

/** Free bytes to an unprivileged writer where `dir` lives; undefined when the server cannot tell. */
export function statvfsFree(sftp: Sftp, dir: string, done: (free: number | undefined) => void): void {
  try {
    sftp.ext_openssh_statvfs(dir, (err, st) => done(err ? undefined : Number(st.f_bavail) * Number(st.f_frsize)));
  } catch {
    done(undefined); // a server without the extension
  }
}

/**
 * WRITEs in flight at once, of up to WRITE_BYTES each: 512 KiB unanswered at
 * most. That is about what a new TCP connection's slow start lets through in
 * its sixth round trip anyway, so a bigger window saves little on a real
 * network; and on a fresh connection, 1 MiB or more in flight made OpenSSH's
 * side stall for some 60 ms (measured on loopback: a 1.2 MB first upload took
 * 80 ms with 8 x 256 KiB in flight, 20 ms with 4 x 128 KiB).
 */
const WRITES_IN_FLIGHT = 4;
const WRITE_BYTES = 128 * 1024;

// One SFTP open, then the mode and the WRITEs sent without waiting for each
// other's answers (the server handles them in order), a few in flight at a
// time, then the close: about one round trip plus the transfer, not one per
// 32 KiB. The mode is set before any byte lands, also on a file that already
// existed. An abort stops issuing writes and closes the file once those in
// flight are answered; a session that closes fails the upload at once.
export function upload(sftp: Sftp, data: Buffer, path: string, signal: AbortSignal | undefined, done: (err?: Error) => void): void {
  let finished = false;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    sftp.removeListener('close', onClose);
    done(err);
  };
  const onClose = () => finish(new Error('the SFTP session closed'));
  sftp.once('close', onClose);
  sftp.open(path, 'w', { mode: 0o600 }, (err, handle) => {
    if (err) return finish(err);
    const chunk = Math.max(4096, Math.min(sftp._maxWriteLen ?? 32_768, WRITE_BYTES));
    let next = 0;
    let inFlight = 1; // the fchmod
    let first: Error | undefined;
    let closing = false;
    const pump = () => {
      while (!first && !signal?.aborted && next < data.length && inFlight < WRITES_IN_FLIGHT) {
        const off = next;
        next += chunk;
        inFlight++;
        sftp.write(handle, data, off, Math.min(chunk, data.length - off), off, answered);
      }
      if (inFlight > 0 || closing) return;
      closing = true;
      if (!first && next < data.length) first = new Error('interrupted');
      sftp.close(handle, (e) => finish(first ?? e));
    };
    const answered = (e?: Error) => {
      inFlight--;
      first ??= e;
      pump();
    };
    sftp.fchmod(handle, 0o600, answered);
    pump();
  });
}

/** One SFTP session per connection, opened on first use; null when the server has no SFTP. */
export class SftpSession {
  private opening: Promise<Sftp | null> | null = null;

  constructor(private readonly client: Ssh2Client) {}

  get(): Promise<Sftp | null> {
    const opening = (this.opening ??= new Promise<Sftp | null>((resolve) => this.client.sftp((err, s) => {
      if (err) return resolve(null);
      const sftp = s as Sftp;
      // a session that ended (its sftp-server died) is not reused: the next upload opens another
      sftp.once('close', () => { if (this.opening === opening) this.opening = null; });
      resolve(sftp);
    })));
    return opening;
  }
}
