// --json: one JSON object per line on stdout, for every event.
import type { RunEvent } from '../run/events.js';

export function jsonLine(e: RunEvent): string {
  return JSON.stringify({ ts: new Date().toISOString(), ...e });
}
