// Writes schemas/playbook.schema.json from src/playbook/schema.ts (run by `npm run build`).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchema } from '../src/playbook/schema.js';

const out = fileURLToPath(new URL('../../schemas/playbook.schema.json', import.meta.url));
writeFileSync(out, JSON.stringify(playbookJsonSchema(), null, 2) + '\n');
