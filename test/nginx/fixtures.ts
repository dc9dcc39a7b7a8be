import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Raw script output captured from real nginx masters by capture-fixtures.ts.
const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'nginx');

export function fixture(name: string): string {
  return readFileSync(join(DIR, name), 'utf8');
}

/** sha256 of the two Debian builds the fixtures were captured with. */
export const OLD_SHA = '1889a003e9f52ab89d09acf455730fca6b1afb4ce75464db9dda0c1b39fb161d'; // 1.22.1-9+deb12u9
export const NEW_SHA = 'bc08ffbb8c8dcc4af51a7816a8afedbe2d4526787cfd9f3a49e26c208217d550'; // 1.22.1-9+deb12u11
