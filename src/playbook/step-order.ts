// The steps are checked against nginx's upgrade state machine before anything
// runs: an order that would leave a host not serving (WINCH before the new
// master is ready, QUIT before the old workers drained, ...) is an error.
import type { Step } from './schema.js';
import { STEP_KINDS, type StepKind } from './vocabulary.js';
import { signalOf, stepOf } from './step.js';

export interface OrderIssue {
  step: number;
  kind: StepKind;
  message: string;
}

export function checkStepOrder(steps: readonly Step[]): OrderIssue[] {
  const issues: OrderIssue[] = [];
  const st = { backup: false, copied: false, usr2: false, ready: false, winch: false, drained: false, quit: false, gone: false };
  steps.forEach((step, i) => {
    if (!STEP_KINDS.some((k) => step[k] !== undefined)) return; // the schema said so already
    const tagged = stepOf(step);
    const err = (message: string) => issues.push({ step: i, kind: tagged.kind, message });
    const midUpgrade = st.usr2 && !st.gone;
    switch (tagged.kind) {
      case 'backup':
        if (st.copied) err('backup after copy-binary would save the new build, not the one to roll back to: move it before copy-binary');
        st.backup = true;
        break;
      case 'copy-binary':
        if (!st.backup) err('copy-binary needs a backup step before it, or the old binary could not be restored');
        if (midUpgrade) err('copy-binary during an upgrade: the new binary must be in place before USR2');
        st.copied = true;
        break;
      case 'wait-for-workers': {
        const until = tagged.spec.until;
        if (until === 'new-master-ready') {
          if (!midUpgrade) err('nothing to wait for: no USR2 was sent to the old master before this step');
          else st.ready = true;
        } else if (until === 'old-workers-exited') {
          if (!st.winch || st.gone) err('old workers only exit after WINCH to the old master: this wait would time out');
          else st.drained = true;
        } else {
          if (!st.quit) err('the old master only exits after QUIT: this wait would time out');
          else st.gone = true;
        }
        break;
      }
      case 'verify':
        if ((tagged.spec.running_binary ?? 'new') === 'new' && midUpgrade && !st.ready) err('verify running_binary: new before the new master is ready (wait-for-workers until: new-master-ready)');
        if ((tagged.spec.running_binary ?? 'new') === 'new' && !st.usr2 && st.copied) err('verify running_binary: new before USR2: the old build is still running');
        break;
      case 'signal': {
        const { send, to } = signalOf(tagged.spec);
        const upgradeTarget = to === 'old-master' || to === 'new-master';
        if (!midUpgrade && to === 'new-master') err(`${send} to the new master, but no upgrade is in progress here`);
        else if (send === 'USR2') {
          if (to === 'new-master') err('USR2 goes to the old master');
          else if (midUpgrade) err('a second USR2 during an upgrade is ignored by nginx');
          else Object.assign(st, { usr2: true, ready: false, winch: false, drained: false, quit: false, gone: false });
        } else if (!midUpgrade) {
          if (send === 'WINCH') err('WINCH with no upgrade in progress stops every worker: nothing would serve');
          if (send === 'QUIT' || send === 'TERM') err(`${send} with no upgrade in progress stops nginx`);
          if (send === 'HUP' && upgradeTarget) err('HUP to the old master only makes sense during an upgrade');
        } else if (to === 'master') {
          err(`during an upgrade two masters run: say which, with { send: ${send}, to: old-master | new-master }`);
        } else if (to === 'old-master') {
          if (send === 'WINCH') {
            if (!st.ready) err('WINCH before the new master is ready (wait-for-workers until: new-master-ready) would leave no workers serving');
            // each error is reported once: go on as if the operator had fixed it
            Object.assign(st, { ready: true, winch: true });
          } else if (send === 'QUIT' || send === 'TERM') {
            if (!st.ready) err(`${send} to the old master before the new master is ready would stop serving`);
            else if (!st.winch || !st.drained) err(`${send} to the old master must follow WINCH and a wait until old-workers-exited`);
            Object.assign(st, { ready: true, winch: true, drained: true, quit: true });
          } else if (send === 'HUP') {
            if (!st.winch) err('HUP to the old master without a WINCH before it would double its workers');
            st.winch = st.drained = false;
          }
        } else if (send === 'QUIT' || send === 'TERM') {
          if (st.winch || st.quit) err(`${send} to the new master after WINCH to the old one would leave no workers serving`);
          else Object.assign(st, { usr2: false, ready: false }); // the upgrade is abandoned; the old master serves on
        } else if (send === 'WINCH') {
          err('WINCH to the new master stops the workers that are meant to serve');
        }
        break;
      }
    }
  });
  if (steps.length && st.usr2 && !st.gone) {
    const last = steps.length - 1;
    issues.push({
      step: last,
      kind: stepOf(steps[last]).kind,
      message: st.quit
        ? 'the playbook ends before the old master has exited: add wait-for-workers until: old-master-exited'
        : 'the playbook ends mid-upgrade with two masters running: finish with WINCH, QUIT and their waits',
    });
  }
  return issues;
}
