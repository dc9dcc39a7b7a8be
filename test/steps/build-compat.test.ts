import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { compareBuilds, parseNginxV } from '../../src/steps/build-compat.js';

// captured from Debian's nginx 1.22.1-9+deb12u9: `nginx -V`
const DEBIAN = readFileSync(new URL('../fixtures/nginx/nginx-V-1.22.1-9+deb12u9.txt', import.meta.url), 'utf8');

describe('nginx -V comparison', () => {
  const running = parseNginxV(DEBIAN);

  it('parses the version and configure arguments, quoted values included', () => {
    expect(running.version).to.equal('nginx/1.22.1');
    expect(running.args.get('--prefix')).to.equal('/usr/share/nginx');
    expect(running.args.get('--conf-path')).to.equal('/etc/nginx/nginx.conf');
    expect(running.args.get('--with-cc-opt')).to.match(/^-g -O2 .*-D_FORTIFY_SOURCE=2$/);
    expect(running.flags.has('--with-threads')).to.equal(true);
  });

  it('finds nothing to say about the same build', () => {
    expect(compareBuilds(running, parseNginxV(DEBIAN), {})).to.deep.equal({ refusals: [], warnings: [] });
  });

  it('warns about added or removed modules and changed arguments', () => {
    const next = parseNginxV(DEBIAN.replace(' --with-threads', '').replace('--with-pcre-jit', '--with-pcre-jit --with-http_v3_module').replace('--lock-path=/var/lock/nginx.lock', '--lock-path=/run/nginx.lock'));
    const { refusals, warnings } = compareBuilds(running, next, { prefix: '/x/', conf: 'conf/nginx.conf' });
    expect(refusals).to.deep.equal([]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('--lock-path: /var/lock/nginx.lock -> /run/nginx.lock');
    expect(warnings[0]).to.include('---with-threads');
    expect(warnings[0]).to.include('+--with-http_v3_module');
  });

  it('refuses another compiled prefix or conf path when the master relies on them', () => {
    const next = parseNginxV(DEBIAN.replace('--prefix=/usr/share/nginx', '--prefix=/opt/nginx').replace('--conf-path=/etc/nginx/nginx.conf', '--conf-path=/opt/nginx/nginx.conf'));
    expect(compareBuilds(running, next, {}).refusals).to.have.length(2);
    // with -p and -c on the master's command line they do not matter
    expect(compareBuilds(running, next, { prefix: '/usr/share/nginx/', conf: '/etc/nginx/nginx.conf' })).to.deep.equal({ refusals: [], warnings: [] });
  });
});
