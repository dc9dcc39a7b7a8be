import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseMasterTitle } from '../../src/nginx/facts.js';
import { deriveLayout, describeLayout } from '../../src/nginx/layout.js';
import { parseConfigDump } from '../../src/nginx/nginx-conf.js';

// Real data (lab/layout-capture.ts): Debian 12's packaged nginx under
// nginx.service in the systemd lab (debian-*), and the lab's hand-built prefix
// (lab/nginx-host.ts, the scratch root renamed /opt/nginx: prefix-*).
const fx = (name: string) => readFileSync(new URL(`../fixtures/layout/${name}`, import.meta.url), 'utf8');
const title = (name: string) => parseMasterTitle(fx(name).trim());
const debian = () => ({ nginxV: fx('debian-nginx-V.txt'), master: title('debian-master-title.txt'), files: parseConfigDump(fx('debian-nginx-T.txt')) });

describe('layout: paths of a running nginx, with where each came from', () => {
  it("Debian's packaged nginx, a playbook naming only the binary: conf from -V, pid and error_log from nginx.conf", () => {
    const l = deriveLayout(debian());
    expect(l.prefix).to.deep.equal({ path: '/usr/share/nginx/', from: 'nginx -V --prefix' });
    expect(l.conf).to.deep.equal({ path: '/etc/nginx/nginx.conf', from: 'nginx -V --conf-path' });
    expect(l.pidFile).to.deep.equal({ path: '/run/nginx.pid', from: 'pid directive in /etc/nginx/nginx.conf:3' });
    // -V says stderr: only the directive names the file
    expect(l.errorLog).to.deep.equal({ path: '/var/log/nginx/error.log', from: 'error_log directive in /etc/nginx/nginx.conf:4' });
    expect(l.modulesPath.path).to.equal('/usr/lib/nginx/modules');
    expect(l.warnings).to.deep.equal([]);
    expect(l.problems).to.deep.equal([]);
    expect(describeLayout(l)[1]).to.equal('pid_file /run/nginx.pid (pid directive in /etc/nginx/nginx.conf:3)');
  });

  it('the hand-built prefix: -p and -c on the master, pid and error_log directives', () => {
    const files = new Map([['/opt/nginx/conf/nginx.conf', fx('prefix-nginx.conf')]]);
    const l = deriveLayout({ nginxV: fx('prefix-nginx-V.txt'), master: title('prefix-master-title.txt'), files });
    expect(l.prefix).to.deep.equal({ path: '/opt/nginx/', from: "-p on the master's command line" });
    expect(l.conf).to.deep.equal({ path: '/opt/nginx/conf/nginx.conf', from: "-c on the master's command line" });
    expect(l.pidFile).to.deep.equal({ path: '/opt/nginx/logs/nginx.pid', from: 'pid directive in /opt/nginx/conf/nginx.conf:4' });
    expect(l.errorLog).to.deep.equal({ path: '/opt/nginx/logs/error.log', from: 'error_log directive in /opt/nginx/conf/nginx.conf:5' });
  });

  it('without the config: compiled defaults, saying a directive would win; stderr is no file', () => {
    const l = deriveLayout({ nginxV: fx('debian-nginx-V.txt'), master: title('debian-master-title.txt') });
    expect(l.pidFile.path).to.equal('/run/nginx.pid');
    expect(l.pidFile.from).to.equal('nginx -V --pid-path (the config files were not read: a pid directive would win)');
    expect(l.errorLog.path).to.equal(null);
    expect(l.errorLog.from).to.match(/^nginx -V --error-log-path \(stderr: no file\)/);
    expect(l.warnings.join('\n')).to.include('give nginx.pid_file');
  });

  it('a ./configure with no paths: /usr/local/nginx and its relative defaults; relative directives join the -p prefix', () => {
    const bare = 'nginx version: nginx/1.26.3\nbuilt by gcc 12.2.0 (Debian 12.2.0-14)\nconfigure arguments: --with-http_ssl_module\n';
    const l = deriveLayout({ nginxV: bare, files: new Map([['/usr/local/nginx/conf/nginx.conf', 'events {}\n']]) });
    expect(l.conf).to.deep.equal({ path: '/usr/local/nginx/conf/nginx.conf', from: "nginx's default conf path (nginx -V has no --conf-path)" });
    expect(l.pidFile.path).to.equal('/usr/local/nginx/logs/nginx.pid');
    expect(l.errorLog.path).to.equal('/usr/local/nginx/logs/error.log');
    const rel = deriveLayout({
      nginxV: bare, master: { prefix: 'srv/', conf: 'conf/site.conf', cwd: '/home/web' },
      files: new Map([['/home/web/srv/conf/site.conf', 'pid run/n.pid;\nerror_log syslog:server=127.0.0.1;\nerror_log "logs/e rr.log" warn;\n']]),
    });
    expect(rel.prefix.path).to.equal('/home/web/srv/');
    expect(rel.pidFile).to.deep.equal({ path: '/home/web/srv/run/n.pid', from: 'pid directive in /home/web/srv/conf/site.conf:1' });
    expect(rel.errorLog).to.deep.equal({ path: '/home/web/srv/logs/e rr.log', from: 'error_log directive in /home/web/srv/conf/site.conf:3' });
  });

  it('-g directives count, and -e comes before the compiled error log', () => {
    const l = deriveLayout({ nginxV: fx('debian-nginx-V.txt'), master: { globals: 'pid /run/alt.pid; daemon on;', errorLog: '/var/log/alt.log' }, files: new Map([['/etc/nginx/nginx.conf', 'events {}\n']]) });
    expect(l.pidFile).to.deep.equal({ path: '/run/alt.pid', from: "pid in -g on the master's command line" });
    expect(l.errorLog).to.deep.equal({ path: '/var/log/alt.log', from: "-e on the master's command line" });
  });

  it('the playbook wins, with a warning when nginx says otherwise', () => {
    const l = deriveLayout({ ...debian(), given: { pid_file: '/var/run/other.pid', error_log: '/var/log/nginx/error.log' } });
    expect(l.pidFile).to.deep.equal({ path: '/var/run/other.pid', from: 'playbook nginx.pid_file' });
    expect(l.warnings).to.deep.equal(["the playbook's nginx.pid_file is /var/run/other.pid, but nginx writes /run/nginx.pid (pid directive in /etc/nginx/nginx.conf:3)"]);
  });

  it('a config nginx could not parse either: a warning, the compiled defaults, no stack', () => {
    const l = deriveLayout({ nginxV: fx('debian-nginx-V.txt'), files: new Map([['/etc/nginx/nginx.conf', 'pid "/run/x.pid;\n']]) });
    expect(l.pidFile.from).to.match(/cannot read the config: \/etc\/nginx\/nginx\.conf:1: unexpected end of file, expecting a closing quote/);
    expect(l.pidFile.path).to.equal('/run/nginx.pid');
  });
});
