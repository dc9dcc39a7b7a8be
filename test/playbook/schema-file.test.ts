import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { playbookJsonSchema } from '../../src/playbook/schema.js';

describe('schemas/playbook.schema.json', () => {
  it('is exactly what the TypeBox source generates (npm run build writes it)', () => {
    const file = JSON.parse(readFileSync(new URL('../../schemas/playbook.schema.json', import.meta.url), 'utf8'));
    expect(file).to.deep.equal(playbookJsonSchema());
    expect(file.$schema).to.equal('http://json-schema.org/draft-07/schema#');
  });
});
