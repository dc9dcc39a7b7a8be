import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { checkModules, configuredModules, parseMaps, planModules, quote, stagedTestConfig } from '../../src/nginx/modules.js';
import { mainDirectives, parseConfigDump } from '../../src/nginx/nginx-conf.js';

// Real data from the systemd lab (lab/layout-capture.ts): Debian 12's nginx with
// its echo module (debian-echo-*), then with the lab's stream module enabled the
// Debian way (debian-stream-*); the staged test config this file plans, run
// with the new build's -t for real (staged-test-*.json).
const fx = (name: string) => readFileSync(new URL(`../fixtures/modules/${name}`, import.meta.url), 'utf8');
const run = (name: string) => JSON.parse(fx(name)) as { argv: string[]; code: number; stdout: string; stderr: string };
const CONF = '/etc/nginx/nginx.conf';
const PREFIX = '/usr/share/nginx/';
const stream = () => parseConfigDump(fx('debian-stream-nginx-T.txt'));
const realpaths = () => {
  const r = run('debian-stream-realpath.json');
  const paths = r.argv.slice(3);
  return Object.fromEntries(paths.map((p, i) => [p, r.stdout.split('\n')[i]!]));
};

describe('modules: what the running master loaded', () => {
  it('finds the load_module lines in Debian\'s modules-enabled includes, resolved against the prefix', () => {
    expect(configuredModules(parseConfigDump(fx('debian-echo-nginx-T.txt')), CONF, PREFIX)).to.deep.equal([
      { arg: 'modules/ngx_http_echo_module.so', path: '/usr/share/nginx/modules/ngx_http_echo_module.so', from: '/etc/nginx/modules-enabled/50-mod-http-echo.conf:1' },
    ]);
    expect(configuredModules(stream(), CONF, PREFIX).map((m) => m.path)).to.deep.equal(['/usr/share/nginx/modules/ngx_http_echo_module.so', '/usr/share/nginx/modules/ngx_stream_module.so']);
  });

  it('reads the .so files of /proc/MASTER/maps, and a module renamed over while loaded', () => {
    const maps = parseMaps(fx('debian-stream-maps.txt'));
    expect(maps.filter((m) => m.path.startsWith('/usr/lib/nginx/'))).to.deep.equal([
      { path: '/usr/lib/nginx/modules/ngx_stream_module.so', deleted: false }, { path: '/usr/lib/nginx/modules/ngx_http_echo_module.so', deleted: false },
    ].sort((a, b) => maps.findIndex((m) => m.path === a.path) - maps.findIndex((m) => m.path === b.path)));
    expect(maps.map((m) => m.path)).to.include('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(parseMaps(fx('debian-stream-maps-replaced.txt')).find((m) => m.path.endsWith('ngx_stream_module.so'))).to.deep.equal({ path: '/usr/lib/nginx/modules/ngx_stream_module.so', deleted: true });
  });

  it('cross-checks config and maps through the symlinked module directory', () => {
    const c = checkModules(configuredModules(stream(), CONF, PREFIX), parseMaps(fx('debian-stream-maps.txt')), realpaths());
    expect(c.loaded.map((l) => l.real)).to.deep.equal(['/usr/lib/nginx/modules/ngx_http_echo_module.so', '/usr/lib/nginx/modules/ngx_stream_module.so']);
    expect(c.notMapped).to.deep.equal([]);
    expect(c.notConfigured).to.deep.equal([]);
    expect(c.warnings).to.deep.equal([]);
  });

  it('warns when the config changed since the master started, and when a loaded module file was replaced', () => {
    // the stream module enabled on disk, the master still the one started with only echo
    const added = checkModules(configuredModules(stream(), CONF, PREFIX), parseMaps(fx('debian-echo-maps.txt')), realpaths());
    expect(added.notMapped.map((n) => n.real)).to.deep.equal(['/usr/lib/nginx/modules/ngx_stream_module.so']);
    expect(added.warnings[0]).to.equal('/etc/nginx/modules-enabled/50-mod-stream.conf:1 loads /usr/share/nginx/modules/ngx_stream_module.so, which the running master has not loaded: the config changed since it started; the new build will load it');
    // and the reverse: a master with stream loaded, the config without it
    const removed = checkModules(configuredModules(parseConfigDump(fx('debian-echo-nginx-T.txt')), CONF, PREFIX), parseMaps(fx('debian-stream-maps.txt')), realpaths());
    expect(removed.notConfigured.map((n) => n.path)).to.deep.equal(['/usr/lib/nginx/modules/ngx_stream_module.so']);
    const replaced = checkModules(configuredModules(stream(), CONF, PREFIX), parseMaps(fx('debian-stream-maps-replaced.txt')), realpaths());
    expect(replaced.warnings).to.have.length(1);
    expect(replaced.warnings[0]).to.match(/^the master runs module \/usr\/lib\/nginx\/modules\/ngx_stream_module\.so from a file since replaced/);
  });
});

describe('modules: shipping a module set with the build', () => {
  const configured = () => configuredModules(stream(), CONF, PREFIX);

  it('pairs a module file with the loaded module of the same name, staged beside the real file', () => {
    const p = planModules([{ src: './build/ngx_stream_module.so' }], configured(), realpaths(), 'r1');
    expect(p.problems).to.deep.equal([]);
    expect(p.steps).to.deep.equal([{
      src: './build/ngx_stream_module.so', target: '/usr/share/nginx/modules/ngx_stream_module.so', real: '/usr/lib/nginx/modules/ngx_stream_module.so',
      staged: '/usr/lib/nginx/modules/.ngx_stream_module.so.hotswap-r1', loaded: true,
    }]);
    expect(p.unchanged.map((u) => u.arg)).to.deep.equal(['modules/ngx_http_echo_module.so']);
    // dest given as the real path works too
    expect(planModules([{ src: 'x.so', dest: '/usr/lib/nginx/modules/ngx_stream_module.so' }], configured(), realpaths(), 'r1').steps[0]!.target).to.equal('/usr/share/nginx/modules/ngx_stream_module.so');
  });

  it('refuses what it cannot place, naming the loaded modules', () => {
    const p = planModules([{ src: 'ngx_nope.so' }, { src: 'a.so', dest: 'modules/a.so' }, { src: 'one/ngx_stream_module.so' }, { src: 'two/ngx_stream_module.so' }], configured(), realpaths(), 'r');
    expect(p.problems).to.deep.equal([
      'module ngx_nope.so: no load_module of the running config names a file ngx_nope.so (loaded: /usr/share/nginx/modules/ngx_http_echo_module.so, /usr/share/nginx/modules/ngx_stream_module.so); give its dest',
      'module a.so: dest modules/a.so must be an absolute path on the host',
      'module two/ngx_stream_module.so: /usr/lib/nginx/modules/ngx_stream_module.so is already replaced by one/ngx_stream_module.so',
    ]);
  });

  it('writes the test config beside nginx.conf: the include inlined, the staged module loaded, the rest byte for byte', () => {
    const plan = planModules([{ src: 'ngx_stream_module.so' }], configured(), realpaths(), 'capture');
    const t = stagedTestConfig(stream(), { conf: CONF, prefix: PREFIX, runId: 'capture', modules: plan.steps });
    expect(t.path).to.equal('/etc/nginx/.nginx.conf.hotswap-capture');
    expect(t.rewritten).to.deep.equal(['/etc/nginx/modules-enabled/50-mod-stream.conf:1']);
    expect(t.text).to.equal(fx('staged-test.conf'));
    // what nginx reads from it: the echo module as before, the stream module from its staged name; no include left
    const d = mainDirectives(t.text, t.path);
    expect(d.filter((x) => x.name === 'load_module').map((x) => x.args[0])).to.deep.equal(['modules/ngx_http_echo_module.so', '/usr/lib/nginx/modules/.ngx_stream_module.so.hotswap-capture']);
    expect(d.filter((x) => x.name === 'include')).to.deep.equal([]);
    // the rest of nginx.conf is unchanged
    expect(t.text.slice(t.text.indexOf('\nevents {'))).to.equal(stream().get(CONF)!.slice(stream().get(CONF)!.indexOf('\nevents {')));
  });

  it('the new build\'s nginx -t on that config: passes with the staged module, names the file when it is no module', () => {
    const ok = run('staged-test-ok.json');
    expect(ok.argv).to.deep.equal(['/opt/hotswap-lab/nginx-new', '-t', '-c', '/etc/nginx/.nginx.conf.hotswap-capture']);
    expect(ok.code).to.equal(0);
    const bad = run('staged-test-bad-module.json');
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('dlopen() "/usr/lib/nginx/modules/.ngx_stream_module.so.hotswap-capture" failed').and.include('invalid ELF header');
  });

  it('rewrites a load_module in the main file itself, and leaves the config alone when no module is swapped', () => {
    const files = new Map([['/opt/nginx/conf/nginx.conf', '# top\nload_module modules/ngx_stream_module.so;\nload_module "/abs/ngx_x.so"; events {}\n']]);
    const t = stagedTestConfig(files, { conf: '/opt/nginx/conf/nginx.conf', prefix: '/opt/nginx/', runId: 'r', modules: [{ target: '/abs/ngx_x.so', staged: '/abs/.ngx "x".so.hotswap-r' }] });
    expect(t.text).to.equal('# top\nload_module modules/ngx_stream_module.so;\nload_module "/abs/.ngx \\"x\\".so.hotswap-r"; # hotswap: staged for /abs/ngx_x.so events {}\n');
    expect(mainDirectives(t.text, 'f')[1]!.args).to.deep.equal(['/abs/.ngx "x".so.hotswap-r']);
    expect(stagedTestConfig(files, { conf: '/opt/nginx/conf/nginx.conf', prefix: '/opt/nginx/', runId: 'r', modules: [] }).text).to.equal(files.get('/opt/nginx/conf/nginx.conf'));
    expect(quote('a\\b')).to.equal('"a\\\\b"');
  });
});
