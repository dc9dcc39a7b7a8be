import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigSyntaxError, globMatch, includeTargets, mainContext, mainDirectives, parseConfigDump } from '../../src/nginx/nginx-conf.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

describe('nginx-conf: the main context of a config', () => {
  it('splits real `nginx -T` output into its files, in order, byte for byte', () => {
    const files = parseConfigDump(fx('modules/debian-stream-nginx-T.txt'));
    expect([...files.keys()]).to.deep.equal([
      '/etc/nginx/nginx.conf', '/etc/nginx/modules-enabled/50-mod-http-echo.conf', '/etc/nginx/modules-enabled/50-mod-stream.conf',
      '/etc/nginx/mime.types', '/etc/nginx/sites-enabled/default',
    ]);
    expect(files.get('/etc/nginx/nginx.conf')).to.equal(fx('layout/debian-nginx.conf').replace(/\n$/, ''));
    expect(files.get('/etc/nginx/modules-enabled/50-mod-stream.conf')).to.equal('load_module modules/ngx_stream_module.so;');
  });

  it("reads Debian's nginx.conf main context: blocks skipped, includes expanded where they stand", () => {
    const ctx = mainContext(parseConfigDump(fx('modules/debian-stream-nginx-T.txt')), '/etc/nginx/nginx.conf');
    expect(ctx.directives.map((d) => `${d.name}@${d.file.replace('/etc/nginx/', '')}:${d.line}`)).to.deep.equal([
      'user@nginx.conf:1', 'worker_processes@nginx.conf:2', 'pid@nginx.conf:3', 'error_log@nginx.conf:4', 'include@nginx.conf:5',
      'load_module@modules-enabled/50-mod-http-echo.conf:1', 'load_module@modules-enabled/50-mod-stream.conf:1',
      'events@nginx.conf:7', 'http@nginx.conf:12', 
    ]);
    expect(ctx.unresolved).to.deep.equal([]);
  });

  it('follows nginx tokenizing: quotes, escapes, comments only at a word start, lines', () => {
    const d = mainDirectives('a "x y" \'q\\\'s\';  # c ; {\nb c#d e\\ f; # tail\nc\n"multi\nline";\nhttp { pid /nope; inner { } }\nerror_log /x;', 'f');
    expect(d.map((x) => [x.name, x.args, x.line, x.block])).to.deep.equal([
      ['a', ['x y', "q's"], 1, false], ['b', ['c#d', 'e f'], 2, false], ['c', ['multi\nline'], 3, false], ['http', [], 6, true], ['error_log', ['/x'], 7, false],
    ]);
  });

  it('says where a broken config breaks (a clear error, not a crash)', () => {
    expect(() => mainDirectives('pid /x', 'f')).to.throw(ConfigSyntaxError, 'f:1: unexpected end of file, expecting ";" or "}"');
    expect(() => mainDirectives('http {\n', 'f')).to.throw(ConfigSyntaxError, 'expecting "}"');
    expect(() => mainDirectives('}', 'f')).to.throw(ConfigSyntaxError, 'unexpected "}"');
    expect(() => mainDirectives('pid "/x"y;', 'f')).to.throw(ConfigSyntaxError, 'after a quoted string');
  });

  it('matches include globs as glob(3): sorted, no slash crossing, no hidden files; relative to the config directory', () => {
    const files = new Map([['/etc/nginx/m/b.conf', ''], ['/etc/nginx/m/a.conf', ''], ['/etc/nginx/m/.nginx.conf.hotswap-1', ''], ['/etc/nginx/m/sub/c.conf', ''], ['/etc/nginx/x.conf', '']]);
    expect(includeTargets(files, '/etc/nginx/', 'm/*.conf')).to.deep.equal(['/etc/nginx/m/a.conf', '/etc/nginx/m/b.conf']);
    expect(includeTargets(files, '/etc/nginx/', 'm/*')).to.deep.equal(['/etc/nginx/m/a.conf', '/etc/nginx/m/b.conf']);
    expect(includeTargets(files, '/etc/nginx/', '/etc/nginx/x.conf')).to.deep.equal(['/etc/nginx/x.conf']);
    expect(globMatch('/a/[ab].conf', '/a/b.conf')).to.equal(true);
    expect(globMatch('/a/[!ab].conf', '/a/b.conf')).to.equal(false);
  });

  it('reports an include of a file that was not read, and stops at an include loop', () => {
    const files = new Map([['/c/n.conf', 'include other.conf;\ninclude self.conf;\n'], ['/c/self.conf', 'include self.conf; pid /p;']]);
    const ctx = mainContext(files, '/c/n.conf');
    expect(ctx.unresolved.map((d) => d.args[0])).to.deep.equal(['other.conf']);
    expect(ctx.directives.filter((d) => d.name === 'pid')).to.have.length(1);
    expect(() => mainContext(files, '/c/none.conf')).to.throw('the config dump holds no /c/none.conf');
  });
});
