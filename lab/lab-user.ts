import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
