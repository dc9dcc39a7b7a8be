// nginx on a host: facts, signals and waits, each one round trip of a constant
// POSIX sh script (src/remote/) with user values passed as positional arguments.
export {
  gatherFacts, parseFacts, parseMasterTitle, daemonRule,
  type HostFacts, type MasterInfo, type PidFileInfo, type PeekInfo, type MasterArgs, type BinaryInfo,
  type ErrorLogInfo, type DaemonInfo, type Daemonized, type Argv0Kind, type FileState, type FactsPaths,
} from './facts.js';
export { roleOf, isLive, PF_FORKNOEXEC, type ProcessInfo, type ProcessRole } from './process.js';
export {
  waitFor, parseWait, describeAlive, WAIT_MODES,
  type WaitArgs, type WaitMode, type WaitResult, type WaitFailure, type AliveProcess,
} from './wait.js';
export { sendSignal, parseSignal, SIGNAL_EXIT, isNginxSignal, NGINX_SIGNALS, type NginxSignal, type SignalResult, type SignalRefusal } from './signal.js';
export { ScriptOutputError } from './format.js';
