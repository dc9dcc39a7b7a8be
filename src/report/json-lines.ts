// --json: one JSON object per line on stdout, for every event.
import type { RunEvent } from '../run/events.js';
import { jsonText } from './terminal-text.js';

// Why: machines follow a run from its events; `ts` first so a log reads in time order.
export function jsonLine(e: RunEvent): string {
  return jsonText({ ts: new Date().toISOString(), ...e });
}
