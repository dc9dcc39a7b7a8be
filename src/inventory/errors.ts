// One problem in an inventory or vars file, located so an operator can jump to it.
// `message` is complete (`file:line:col: reason`); print it, never the stack.
export class InventoryError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(`${file}${line ? `:${line}${col ? `:${col}` : ''}` : ''}: ${reason}`);
    this.name = 'InventoryError';
  }
}

// Every problem found by one load, so the operator fixes them all in one pass.
// It is an InventoryError too (the first one), its message lists them all.
export class InventoryErrors extends InventoryError {
  constructor(readonly errors: readonly InventoryError[]) {
    const first = errors[0]!;
    super(first.file, first.reason, first.line, first.col);
    this.message = errors.map((e) => e.message).join('\n');
    this.name = 'InventoryErrors';
  }
}
