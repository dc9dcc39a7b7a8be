import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';

const run = promisify(execFile);

export const LAB_USER = 'hotswap-lab';

export interface LabUser {
  name: string;
  uid: number;
  gid: number;
}

// Why: the lab's nginx hosts run as, and are reached over SSH as, a plain user
// with /bin/sh as its shell, like a deploy account: logging in as root here
// would run root's interactive shell start-up files on every command.
// Created when the lab runs as root; otherwise the lab is whoever runs it.
// Another `name` makes another such account (root only), e.g. a sudo login.
export async function ensureLabUser(name: string = LAB_USER): Promise<LabUser> {
  const me = userInfo();
  if (me.uid !== 0) {
    if (name === LAB_USER) return { name: me.username, uid: me.uid, gid: me.gid };
    throw new Error(`creating the lab user ${name} needs root (useradd); run the tests as root`);
  }
  const id = async () => {
    const uid = Number((await run('id', ['-u', name])).stdout.trim());
    const gid = Number((await run('id', ['-g', name])).stdout.trim());
    return { name, uid, gid };
  };
  try {
    return await id();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--shell', '/bin/sh', '--home-dir', `/var/lib/${name}`, '--create-home', name]);
    } catch (err) {
      // another lab may have created it at the same moment
      try {
        return await id();
      } catch {
        throw new Error(`cannot create the lab user ${name}: ${(err as Error).message.split('\n')[0]} (useradd comes with Debian's passwd package)`);
      }
    }
    // a locked account (password "!") may not log in even with a key: "*" means no password
    await run('usermod', ['-p', '*', name]);
    return id();
  }
}

/** Whether the account exists (`id -u`), e.g. before the demo creates it. */
export async function labUserExists(name: string = LAB_USER): Promise<boolean> {
  return run('id', ['-u', name]).then(() => true, () => false);
}

/** Pids of the processes that run as `uid` (real or effective), from /proc. */
export async function pidsOfUser(uid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const ids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (ids && (Number(ids[1]) === uid || Number(ids[2]) === uid)) out.push(Number(name));
  }
  return out;
}

// Why: the demo removes the account only when it made it, and never from under
// a process that still runs as it (a test of the same lab, say): userdel would
// leave that process with a uid that no name maps to.
/** Removes the account, its group and its home; returns why not when it cannot. */
export async function removeLabUser(name: string = LAB_USER): Promise<string | null> {
  const uid = await run('id', ['-u', name]).then((r) => Number(r.stdout.trim()), () => null);
  if (uid === null) return null; // not there: nothing to remove
  if (uid === 0) return `${name} is root`;
  const busy = await pidsOfUser(uid);
  if (busy.length) return `${busy.length} process(es) still run as ${name} (pids ${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', ...' : ''})`;
  try {
    await run('userdel', ['--remove', name]);
  } catch (err) {
    // userdel --remove exits 12 when the home was already gone; the account is removed then
    if (await labUserExists(name)) return `userdel --remove ${name} failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}
