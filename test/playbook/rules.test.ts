import { expect } from 'chai';
import { problemsOf, VALID } from './helpers.js';

const withSteps = (steps: string) => VALID.replace(/steps:\n[\s\S]*$/, `steps:\n${steps}`);

describe('playbook rules', () => {
  describe('step order against the upgrade state machine', () => {
    it('refuses WINCH before a wait for the new master', () => {
      expect(problemsOf(withSteps('  - signal: USR2\n  - signal: WINCH\n  - wait-for-workers: { until: old-workers-exited }\n  - signal: QUIT\n  - wait-for-workers: { until: old-master-exited }\n'))).to.deep.equal([
        '9:5: steps[1].signal: WINCH before the new master is ready (wait-for-workers until: new-master-ready) would leave no workers serving',
      ]);
    });

    it('refuses QUIT or WINCH with no USR2 at all', () => {
      expect(problemsOf(withSteps('  - signal: WINCH\n  - signal: QUIT\n'))).to.deep.equal([
        '8:5: steps[0].signal: WINCH with no upgrade in progress stops every worker: nothing would serve',
        '9:5: steps[1].signal: QUIT with no upgrade in progress stops nginx',
      ]);
    });

    it("refuses QUIT before WINCH's wait", () => {
      const steps = VALID.split('steps:\n')[1].replace('  - wait-for-workers: { until: old-workers-exited, timeout: 5m }\n', '');
      expect(problemsOf(withSteps(steps))).to.deep.equal([
        '14:5: steps[6].signal: QUIT to the old master must follow WINCH and a wait until old-workers-exited',
      ]);
    });

    it('refuses copy-binary without a backup before it', () => {
      const steps = VALID.split('steps:\n')[1].replace('  - backup: { keep: 3 }\n', '');
      expect(problemsOf(withSteps(steps))).to.deep.equal([
        '8:5: steps[0].copy-binary: copy-binary needs a backup step before it, or the old binary could not be restored',
      ]);
    });

    it('refuses a playbook that ends with two masters running', () => {
      expect(problemsOf(withSteps('  - backup: {}\n  - copy-binary: { src: x }\n  - signal: USR2\n  - wait-for-workers: { until: new-master-ready }\n'))).to.deep.equal([
        '11:5: steps[3].wait-for-workers: the playbook ends mid-upgrade with two masters running: finish with WINCH, QUIT and their waits',
      ]);
    });

    it('refuses a wait that could only time out', () => {
      expect(problemsOf(withSteps('  - wait-for-workers: { until: old-master-exited }\n'))).to.deep.equal([
        '8:5: steps[0].wait-for-workers: the old master only exits after QUIT: this wait would time out',
      ]);
    });

    it('asks which master during an upgrade', () => {
      const steps = VALID.split('steps:\n')[1].replace('  - verify: { running_binary: new }\n', '  - signal: HUP\n');
      expect(problemsOf(withSteps(steps))).to.deep.equal([
        '14:5: steps[6].signal: during an upgrade two masters run: say which, with { send: HUP, to: old-master | new-master }',
      ]);
    });

    it('allows HUP to reload when no upgrade runs', () => {
      expect(problemsOf(withSteps('  - signal: HUP\n'))).to.deep.equal([]);
    });
  });

  describe('values after interpolation', () => {
    it('reports an undefined variable at its string, with a suggestion', () => {
      const text = VALID.replace('name: test', 'name: test\nvars: { build: ./nginx }').replace('src: ./nginx', 'src: "{{ buidl }}"');
      expect(problemsOf(text)).to.deep.equal(['10:25: steps[1].copy-binary.src: undefined variable {{ buidl }} (did you mean {{ build }}?)']);
    });

    it('interpolates nginx paths from host vars and checks them per host', () => {
      const text = VALID.replace('  - edge-1', '  - name: edge-1\n    vars: { p: opt/nginx }').replace('prefix: /usr/local/nginx', 'prefix: "{{ p }}"');
      expect(problemsOf(text)).to.deep.equal(['7:11: nginx.prefix: host path "opt/nginx" is not absolute']);
    });

    it('refuses shell metacharacters and control characters in host paths', () => {
      expect(problemsOf(VALID.replace('prefix: /usr/local/nginx', 'prefix: "/opt/nginx;rm -rf /"'))).to.deep.equal([
        '6:11: nginx.prefix: host path "/opt/nginx;rm -rf /" contains ";": host paths may hold only letters, digits and . _ - / + @ % , = : ~',
      ]);
      expect(problemsOf(VALID.replace('prefix: /usr/local/nginx', 'prefix: "/opt/nginx\\nid"\n  pid_file: /run/$(id).pid'))).to.deep.equal([
        '6:11: nginx.prefix: host path "/opt/nginx\\nid" contains a control character ("\\n")',
        '7:13: nginx.pid_file: host path "/run/$(id).pid" contains "$": host paths may hold only letters, digits and . _ - / + @ % , = : ~',
      ]);
    });

    it('refuses serial over 100%', () => {
      expect(problemsOf(VALID.replace('nginx:\n', 'strategy: { serial: "150%" }\nnginx:\n'))).to.deep.equal(['5:21: strategy.serial: "150%" is over 100%']);
    });

    it('refuses a duration that only a variable made', () => {
      const text = VALID.replace('name: test', 'name: test\nvars: { t: soon }').replace('timeout: 30s', 'timeout: "{{ t }}"');
      expect(problemsOf(text)).to.deep.equal(['17:60: steps[8].wait-for-workers.timeout: "soon" is not a duration (expected e.g. 500ms, 10s, 5m, 1h)']);
    });

    it('refuses a variable that refers to itself', () => {
      expect(problemsOf(VALID.replace('name: test', 'name: test\nvars: { a: "{{ b }}", b: "{{ a }}" }'))).to.have.length.greaterThan(0);
    });

    it('refuses duplicate hosts and a pattern without an inventory', () => {
      expect(problemsOf(VALID.replace('  - edge-1', '  - edge-1\n  - edge-1'))).to.deep.equal(['5:5: hosts[1]: host "edge-1" is listed twice']);
      expect(problemsOf(VALID.replace('hosts:\n  - edge-1', 'hosts: "edge*"'))).to.deep.equal([
        '3:8: hosts: a pattern ("edge*") needs an "inventory" to select from; or list the hosts',
      ]);
    });
  });
});

describe('playbook hosts from an Ansible inventory', () => {
  const INV = '[edge]\nedge-1 ansible_host=10.0.0.1\nedge-2 ansible_host=10.0.0.2 nginx_prefix=/opt/nginx\n[db]\ndb-1\n';
  const withInventory = (hosts: string) =>
    VALID.replace('hosts:\n  - edge-1', `inventory: ./inventory.ini\nhosts: ${hosts}`).replace('prefix: /usr/local/nginx', 'prefix: "{{ nginx_prefix }}"').replace('name: test', 'name: test\nvars: { nginx_prefix: /usr/local/nginx }');
  it('selects hosts by pattern and uses their inventory vars', () => {
    expect(problemsOf(withInventory('"edge:!edge-2"'), { 'inventory.ini': INV })).to.deep.equal([]);
    expect(problemsOf(withInventory('"nope"'), { 'inventory.ini': INV })).to.deep.equal(['5:8: hosts: the pattern matches no host for: nope']);
  });

  it('reports a problem inside the inventory at its own line', () => {
    const syntax = problemsOf(withInventory('edge'), { 'inventory.ini': '[edge]\nedge-1\n[edge:wat]\n' });
    expect(syntax).to.have.length(1);
    expect(syntax[0]).to.match(/inventory\.ini:3:\d+: /);
    const value = problemsOf(withInventory('edge'), { 'inventory.ini': '[edge]\nedge-1 ansible_port=notaport\n' });
    expect(value).to.have.length(1);
    expect(value[0]).to.match(/^4:12: inventory: .*inventory\.ini: host "edge-1": ansible_port "notaport" is not a port/);
  });
});
