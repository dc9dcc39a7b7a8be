// The built-in SSH client (ssh.client: builtin), in parts named after their jobs:
//   ssh-connect.ts      connection and authentication (keys and agent: identity.ts)
//   host-key-policy.ts  strict / accept-new / off, and writing known_hosts
//   ssh-transport.ts    the Transport over the connection: exec, sequence, put, openTcp
//   shell-pool.ts       the long-lived shells commands run on (shell-session.ts)
//   exec-channel.ts     a command with stdin on a channel of its own; killing one
//   sftp-upload.ts      the windowed SFTP upload and statvfs
//   ssh-errors.ts       error text
export { connectSsh } from './ssh-connect.js';
export type { SshConnection, SshOptions } from './ssh-options.js';
