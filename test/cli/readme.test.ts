import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { withReference } from '../../scripts/playbook-reference.js';

describe('README', () => {
  it('documents every playbook key as the schema has it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme, 'run: node dist/scripts/playbook-reference.js --write').to.equal(withReference(readme));
  });
});
