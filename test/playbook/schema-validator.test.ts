import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { playbookJsonSchema } from '../../src/playbook/schema.js';
import { validate } from '../../src/playbook/schema-validator.js';
import { playbookValidatorSource } from '../../scripts/playbook-validator.js';
import { CLI } from '../cli/run-cli.js';
import { VALID } from './helpers.js';

type Validate = typeof validate;

describe('src/playbook/schema-validator.ts and the standalone validator the bundle ships', () => {
  it('report the same errors: ajv compiling the schema at run time, and its standalone code built from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-validator-'));
    try {
      writeFileSync(join(dir, 'validator.mjs'), playbookValidatorSource(playbookJsonSchema()));
      const standalone = (await import(pathToFileURL(join(dir, 'validator.mjs')).href)).validate as Validate;
      const docs = [
        parse(VALID),
        parse(VALID.replace('keep: 3', 'keep: three').replace('signal: USR2', 'signal: USR3').replace('name: test', 'name: ""')),
        parse(VALID.replace('until: new-master-ready', 'untill: new-master-ready').replace('hosts:', 'extra: 1\nhosts:')),
        { version: 2, hosts: 'edge-1', steps: [{}] },
        [],
      ];
      for (const doc of docs) {
        expect(standalone(doc)).to.equal(validate(doc));
        expect(standalone.errors ?? null).to.deep.equal(validate.errors ?? null);
      }
      expect(validate(docs[1])).to.equal(false); // the comparison covers errors, not only valid documents
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is in the bundle as standalone code: the bundle holds no ajv (npm run build)', () => {
    const bundle = readFileSync(CLI, 'utf8');
    // the standalone code spells out every schema path; ajv at run time builds them
    expect(bundle).to.include('"#/properties/steps/items/properties/verify/properties/http/items/properties/status/maximum"');
    expect(bundle).not.to.match(/node_modules\/ajv\//);
  });
});
