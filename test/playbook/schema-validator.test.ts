import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { playbookJsonSchema } from '../../src/playbook/schema.js';
import { validate } from '../../src/playbook/schema-validator.js';
import { playbookValidatorSource } from '../../scripts/playbook-validator.js';
import { VALID } from './helpers.js';

describe('src/playbook/schema-validator.ts', () => {
  it('is exactly what ajv generates from the schema (npm run build writes it)', () => {
    const file = readFileSync(new URL('../../src/playbook/schema-validator.ts', import.meta.url), 'utf8');
    expect(file === playbookValidatorSource(playbookJsonSchema()), 'stale: run npm run build').to.equal(true);
  });

  it('reports the same errors as ajv compiling the schema at run time', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false });
    const compiled = ajv.compile(playbookJsonSchema());
    const standalone = validate as unknown as typeof compiled;
    const docs = [
      parse(VALID),
      parse(VALID.replace('keep: 3', 'keep: three').replace('signal: USR2', 'signal: USR3').replace('name: test', 'name: ""')),
      parse(VALID.replace('until: new-master-ready', 'untill: new-master-ready').replace('hosts:', 'extra: 1\nhosts:')),
      { version: 2, hosts: 'edge-1', steps: [{}] },
      [],
    ];
    for (const doc of docs) {
      expect(standalone(doc)).to.equal(compiled(doc));
      expect(standalone.errors ?? null).to.deep.equal(compiled.errors ?? null);
    }
  });
});
