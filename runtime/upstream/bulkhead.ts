// The bulkhead (an upstream's `bulkhead max_in_flight N`): a per-upstream cap on requests in flight. Over the cap the request fails fast
// (503) instead of queueing for a socket, so one slow upstream cannot hold the gateway's memory, sockets and
// event-loop time hostage while the others starve.
export class Bulkhead {
  inFlight = 0
  constructor(readonly max: number) {}
  /** Take a slot; false when full. */
  acquire(): boolean { if (this.inFlight >= this.max) return false; this.inFlight++; return true } // HOT PATH
  release(): void { this.inFlight-- }
}
