// What main.ts hands each command's run(): its own module, so that the
// commands need not import main.ts, which loads them.
export interface CommandArgs {
  playbook: string;
  values: Record<string, string | boolean | undefined>;
}
