// Confirmations: asked on a terminal, answered by --yes, and refused (never
// assumed) when there is no terminal to ask on.
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

export function confirmer(yes: boolean): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError(`${question} — no terminal to ask on: refusing (pass --yes to confirm)`);
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
