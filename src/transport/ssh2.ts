// ssh2, loaded on first use rather than at start-up: it takes 50-70 ms to
// load, which a command that connects nowhere never pays, and which the first
// connection spends while its TCP connect is already under way (see
// connectSsh). Only the client's modules are loaded, not ssh2's index (its
// server, HTTP agents and key generator). The bundle (scripts/bundle.ts)
// leaves ssh2 out: it is required from node_modules, with its native binding.
// ssh2 ships no types in this repo: these are the shapes used.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** ssh2's parsed key (only what is used here). */
export type ParsedKey = { type: string; getPublicSSH(): Buffer; isPrivateKey(): boolean };
export type AgentLike = { getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void };

export type Ssh2Client = {
  connect(config: Record<string, unknown>): void;
  exec(cmd: string, cb: (err: Error | undefined, ch: any) => void): void;
  sftp(cb: (err: Error | undefined, sftp: any) => void): void;
  forwardOut(srcIP: string, srcPort: number, dstIP: string, dstPort: number, cb: (err: Error | undefined, ch: any) => void): void;
  on(ev: string, cb: (...a: any[]) => void): Ssh2Client;
  once(ev: string, cb: (...a: any[]) => void): Ssh2Client;
  removeListener(ev: string, cb: (...a: any[]) => void): Ssh2Client;
  end(): void;
};

type Ssh2 = {
  Client: new () => Ssh2Client;
  utils: { parseKey(data: string | Buffer, passphrase?: string): ParsedKey | ParsedKey[] | Error };
  OpenSSHAgent: new (socketPath: string) => AgentLike;
};

let loaded: Ssh2 | undefined;

export function ssh2(): Ssh2 {
  return (loaded ??= {
    Client: require('ssh2/lib/client.js'),
    utils: { parseKey: require('ssh2/lib/protocol/keyParser.js').parseKey },
    OpenSSHAgent: require('ssh2/lib/agent.js').OpenSSHAgent,
  });
}
