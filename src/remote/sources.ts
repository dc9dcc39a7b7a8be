// The .sh files of this folder, read from beside this module: src/remote/
// under tsx, dist/src/remote/ in tsc's output (scripts/bundle.ts copies them
// there). The CLI bundle has no folder beside it: scripts/bundle.ts replaces
// this module with one that holds their text.
import { readFileSync } from 'node:fs';

/** The text of a file of src/remote/, by its path there (`facts.sh`, `lib/kv.sh`). */
export function readSource(path: string): string {
  return readFileSync(new URL(path, import.meta.url), 'utf8');
}
