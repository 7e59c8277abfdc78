/** A FIFO counting semaphore: waiters are served in arrival order, so publishes leave in the order they were made. */
export class Inflight {
  private used = 0
  private readonly waiters: Array<() => void> = []
  constructor (public limit: number) {}

  get inUse (): number { return this.used }

  acquire (): Promise<void> {
    if (this.used < this.limit && this.waiters.length === 0) { this.used++; return Promise.resolve() }
    return new Promise((resolve) => this.waiters.push(() => { this.used++; resolve() }))
  }

  release (): void {
    this.used--
    while (this.used < this.limit && this.waiters.length > 0) this.waiters.shift()!()
  }
}
