// lab/harness/interleave.ts: the order of a comparison's runs. Targets are interleaved — A B C, A B C, … —
// so slow drift of a shared machine (other users' load, thermal state) lands on every target alike instead of
// on whichever ran last; ratios are then taken within a round, where conditions were the closest.

export interface Slot<T> { round: number; index: number; target: T }

/** rounds × targets in interleaved order: every target once per round, in the given order. */
export function interleave<T>(targets: readonly T[], rounds: number): Slot<T>[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`interleave: rounds must be a positive integer, got ${rounds}`)
  const out: Slot<T>[] = []
  for (let round = 0; round < rounds; round++) {
    targets.forEach((target, index) => out.push({ round, index, target }))
  }
  return out
}

/** Wall time a schedule needs, for a budget check before it starts. */
export function scheduleMs(slots: number, perRunMs: number, gapMs = 0): number {
  return slots * (perRunMs + gapMs)
}
