// The plan as text: per host, in order, each action with its resolved values,
// marked as a change (~), a check that ran now (=), or withheld until apply.
import { formatDuration } from '../playbook/duration.js';
import type { RunEvent } from '../run/events.js';

export class PlanPrinter {
  private lines: string[] = [];
  private hostLines = new Map<string, string[]>();
  private order: string[] = [];

  on(e: RunEvent): void {
    const out = (host: string) => {
      let l = this.hostLines.get(host);
      if (!l) {
        this.hostLines.set(host, (l = []));
        this.order.push(host);
      }
      return l;
    };
    switch (e.type) {
      case 'run-start':
        this.lines.push(`plan: ${e.name}`, `  ${e.hosts.length} host(s) in ${e.batches.length} batch(es): ${e.batches.map((b, i) => `[${i + 1}] ${b.join(', ')}`).join('  ')}`);
        if (e.binarySha256) this.lines.push(`  new build sha256 ${e.binarySha256}`);
        this.lines.push('  nothing below has been changed on any host', '');
        break;
      case 'step-start':
        out(e.host).push(`  ${e.step + 1}. ${e.label}`);
        break;
      case 'action':
        out(e.host).push(`       ${e.changes ? (e.withheld ? '~ would' : '= did (read-only)') : e.withheld ? '? would' : '= did (read-only)'} ${e.description}`);
        break;
      case 'host-end':
        out(e.host).unshift(`${e.host}: ${e.result === 'planned' ? 'would upgrade' : e.result}${e.message ? `: ${e.message}` : ''} (${formatDuration(e.ms)})`);
        break;
    }
  }

  text(): string {
    return [...this.lines, ...this.order.flatMap((h) => [...this.hostLines.get(h)!, ''])].join('\n');
  }
}
