// Host-key policy for the built-in client: which keys to ask the server for,
// whether to accept the one it shows (strict, accept-new, off), and recording
// a new one in known_hosts. Parsing and matching live in known-hosts.ts.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  fingerprint, formatEntry, formatHashedEntry, hostKeyAlgorithms, hostToken, knownTypesFor, parseKnownHosts,
  verifyHostKey, type HostLookup, type KnownHostEntry,
} from './known-hosts.js';
import type { SshOptions } from './ssh-options.js';

/** Every entry of every file; `text` is the first (written) file as read. */
type KnownHosts = { text: string; entries: KnownHostEntry[] };

export interface HostKeyCheck {
  /** the server host key algorithms to offer, known types first */
  algorithms: string[];
  /** ssh2's hostVerifier */
  verifier(blob: Buffer, verify: (ok: boolean) => void): void;
  /** why the key was refused, once the verifier refused it */
  refusal(): string | null;
}

let warnedOff = false;

// Why: the host key is checked against known_hosts before any credential is
// offered. The files are read even when checking is off: a @revoked key is
// refused in every mode.
export async function hostKeyCheck(opts: SshOptions, knownFiles: string[], where: string, unreachable: (why: string) => Error): Promise<HostKeyCheck> {
  const token = hostToken(opts.hostKeyAlias ?? opts.address, opts.hostKeyAlias ? 22 : opts.port);
  const lookup: HostLookup = { name: opts.hostKeyAlias ?? opts.address, port: opts.hostKeyAlias ? 22 : opts.port, alias: !!opts.hostKeyAlias };
  const known = await readAllKnownHosts(knownFiles, opts.globalKnownHostsFiles ?? [], unreachable)
    .catch((e: Error) => { if (opts.hostKeyChecking === 'off') return { text: '', entries: [] }; throw e; });
  let refusal: string | null = null;
  return {
    algorithms: hostKeyAlgorithms(knownTypesFor(known.entries, token)),
    verifier: (blob, verify) => {
      void decideHostKey(opts, knownFiles, where, lookup, known, blob).then(
        (why) => { refusal = why; verify(why === null); },
        (e: Error) => { refusal = `cannot check the host key: ${e.message}`; verify(false); },
      );
    },
    refusal: () => refusal,
  };
}

async function readAllKnownHosts(files: string[], global: string[], unreachable: (why: string) => Error): Promise<KnownHosts> {
  const read = async (file: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw unreachable(`cannot read known_hosts ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const all = [...files, ...global];
  const texts = await Promise.all(all.map(read));
  return { text: texts[0] ?? '', entries: all.flatMap((f, i) => parseKnownHosts(texts[i]!, f)) };
}

/** null = accept; otherwise the one-line reason for refusing. */
async function decideHostKey(opts: SshOptions, files: string[], where: string, lookup: HostLookup, known: KnownHosts, blob: Buffer): Promise<string | null> {
  const { key, verdict, certProblem } = verifyHostKey(known.entries, lookup, blob);
  const token = hostToken(lookup.name, lookup.port);
  const fp = `${key.type} ${fingerprint(key)}`;
  const cert = certProblem ? ` (its certificate was not accepted: ${certProblem})` : '';
  if (verdict.status === 'revoked') {
    return `host key ${fp} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}; refusing`;
  }
  if (opts.hostKeyChecking === 'off') {
    if (!warnedOff) {
      warnedOff = true;
      process.stderr.write(
        `WARNING: host key checking is OFF (${opts.hostKeyCheckingFrom ?? 'host_key_checking: off'}). Host keys are not verified, so anyone on the ` +
        `network path can impersonate a host and receive your commands and binaries. First seen: ${where} ${fp}\n`,
      );
    }
    return null;
  }
  if (verdict.status === 'known') return null;
  if (verdict.status === 'changed') {
    const old = { type: verdict.entry.keyType, base64: verdict.entry.keyBase64 };
    return `HOST KEY CHANGED: server offers ${fp}, but ${verdict.entry.file}:${verdict.entry.line} has ${old.type} ` +
      `${fingerprint(old)}; refusing (someone may be intercepting the connection, or the host was reinstalled: ` +
      `check, then remove that line)`;
  }
  const first = files[0];
  if (opts.hostKeyChecking === 'strict' || !first) {
    const others = verdict.otherTypes.length ? ` (only ${verdict.otherTypes.join(', ')} keys are known for it)` : '';
    const checked = [...files, ...(opts.globalKnownHostsFiles ?? [])].join(', ') || 'any known_hosts file';
    if (opts.hostKeyChecking !== 'strict') return `unknown host key ${fp}: not in ${checked}; refusing: accept-new has no known_hosts file to record it in`;
    const setting = opts.hostKeyCheckingFrom && opts.hostKeyCheckingFrom !== 'the default' ? opts.hostKeyCheckingFrom : 'host_key_checking: strict';
    return `unknown host key ${fp}${cert}: not in ${checked}${others}; refusing (${setting}). ` +
      'Verify the fingerprint, then add the key or use host_key_checking: accept-new';
  }
  const line = opts.hashKnownHosts ? formatHashedEntry(token, key) : formatEntry(token, key);
  const sep = known.text === '' || known.text.endsWith('\n') ? '' : '\n';
  try {
    await mkdir(dirname(first), { recursive: true });
    await appendFile(first, `${sep}${line}\n`);
  } catch (e) {
    return `cannot record host key ${fp} in ${first}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  known.text += `${sep}${line}\n`;
  return null;
}
