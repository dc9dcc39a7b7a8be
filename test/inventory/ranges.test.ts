import { expect } from 'chai';
import { expandHostEntry } from '../../src/inventory/ranges.js';

describe('inventory host entries and ranges', () => {
  const ok: [string, string[], number?][] = [
    ['web1', ['web1']],
    ['web[1:3]', ['web1', 'web2', 'web3']],
    ['web[01:03].example.com', ['web01.example.com', 'web02.example.com', 'web03.example.com']],
    ['web[01:10:3]', ['web01', 'web04', 'web07', 'web10']],
    ['web[:2]', ['web0', 'web1', 'web2']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['x[y:B]', ['xy', 'xz', 'xA', 'xB']],
    ['r[1:2]-n[a:b]', ['r1-na', 'r1-nb', 'r2-na', 'r2-nb']],
    ['web1:2222', ['web1'], 2222],
    ['web[1:2].example.com:2222', ['web1.example.com', 'web2.example.com'], 2222],
    ['10.0.0.1:22', ['10.0.0.1'], 22],
    ['[2001:db8::1]:2222', ['2001:db8::1'], 2222],
    ['2001:db8::1', ['2001:db8::1']],
    ['fe80::1%eth0', ['fe80::1%eth0']],
  ];
  for (const [entry, names, port] of ok) {
    it(`${entry} -> ${names.join(' ')}${port ? ` port ${port}` : ''}`, () => {
      expect(expandHostEntry(entry)).to.deep.equal({ names, port });
    });
  }

  const bad: [string, string][] = [
    ['web[1:x]', 'bad range [1:x] in host "web[1:x]": begin and end must both be numbers or both be single letters'],
    ['web[1]', 'bad range [1] in host "web[1]": expected [begin:end] or [begin:end:step]'],
    ['web[1:]', 'bad range [1:] in host "web[1:]": the end is missing'],
    ['web[1:3:0]', 'bad range [1:3:0] in host "web[1:3:0]": the step must be a positive integer'],
    ['web[3:1]', 'bad range [3:1] in host "web[3:1]": begin is greater than end'],
    ['web[c:a]', 'bad range [c:a] in host "web[c:a]": begin comes after end'],
    ['web[01:100]', 'bad range [01:100] in host "web[01:100]": a zero-padded begin and its end must have the same width'],
    ['w[0:999][0:999]', 'bad range [0:999] in host "w[0:999][0:999]": expands to more than 100000 hosts'],
    ['web[1:3', `host "web[1:3" has a '[' without ']'`],
    ['web]', `host "web]" has a ']' without '['`],
    ['web:', `host "web:" ends in ':', which must be followed by a port`],
    ['web:ssh', `host "web:ssh": the part after ':' must be a port number`],
    ['web:70000', 'host "web:70000": port 70000 is not in 1-65535'],
    ['---', 'host "---" is a YAML document marker: name a YAML inventory .yml or .yaml'],
  ];
  for (const [entry, message] of bad) {
    it(`refuses ${entry}`, () => expect(() => expandHostEntry(entry)).to.throw(message));
  }
});
