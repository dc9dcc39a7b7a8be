// HTTP checks made from the host: the request travels over a TCP connection
// the host itself opens (an SSH direct-tcpip channel), so 127.0.0.1 in a URL
// is the host, and nothing needs to be installed there.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HttpCheckSpec } from '../playbook/schema.js';
import type { Transport } from '../transport/transport.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const MAX_BODY = 64 * 1024;

export async function fetchOnHost(t: Transport, url: string, timeoutMs: number): Promise<HttpResponse> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const port = Number(u.port || (https ? 443 : 80));
  const address = u.hostname.replace(/^\[|\]$/g, '');
  const raw = await t.openTcp(address, port);
  const socket: Duplex = https ? tlsConnect({ socket: raw as never, servername: address, rejectUnauthorized: false }) : raw;
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      { method: 'GET', host: u.hostname, path: `${u.pathname}${u.search}`, headers: { Host: u.host, Connection: 'close', 'User-Agent': 'hotswap' }, createConnection: () => socket as never, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_BODY) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')])), body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  }).finally(() => socket.destroy()) as Promise<HttpResponse>;
}

/** Why a response fails a check, or undefined when it passes. */
export function httpMismatch(check: HttpCheckSpec, r: HttpResponse): string | undefined {
  const want = check.status ?? 200;
  if (r.status !== want) return `status ${r.status}, expected ${want}`;
  if (check.contains !== undefined && !r.body.includes(check.contains)) return `the body does not contain ${JSON.stringify(check.contains)}`;
  for (const [name, re] of Object.entries(check.header ?? {})) {
    const v = r.headers[name.toLowerCase()];
    if (v === undefined) return `no ${name} header`;
    if (!new RegExp(re).test(v)) return `header ${name}: ${JSON.stringify(v)} does not match /${re}/`;
  }
  return undefined;
}
