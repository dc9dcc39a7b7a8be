// Writes schemas/playbook.schema.json from src/playbook/schema.ts (run by `npm run build`).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchema } from '../src/playbook/schema.js';

const at = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
writeFileSync(at('schemas/playbook.schema.json'), JSON.stringify(playbookJsonSchema(), null, 2) + '\n');
