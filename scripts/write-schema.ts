// Writes schemas/playbook.schema.json from src/playbook/schema.ts, and the
// standalone validator src/playbook/schema-validator.ts from it (run by `npm run build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchema } from '../src/playbook/schema.js';
import { playbookValidatorSource } from './playbook-validator.js';

const at = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const schema = playbookJsonSchema();
writeFileSync(at('schemas/playbook.schema.json'), JSON.stringify(schema, null, 2) + '\n');
// The generated module is plain JavaScript: tsc compiled the previous version
// a moment ago, so write the same text into dist too, to keep this build current.
const validator = playbookValidatorSource(schema);
writeFileSync(at('src/playbook/schema-validator.ts'), validator);
mkdirSync(at('dist/src/playbook'), { recursive: true });
writeFileSync(at('dist/src/playbook/schema-validator.js'), validator);
