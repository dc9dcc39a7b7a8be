// At most `size` holders at once; the rest wait their turn, in order. Both ssh
// transports bound what they open on one connection with it (sshd refuses
// sessions past MaxSessions).
export class Slots {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly size: number) {}

  take(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.queue.push(() => { this.active++; r(); }));
  }

  give(): void {
    this.active--;
    this.queue.shift()?.();
  }
}
