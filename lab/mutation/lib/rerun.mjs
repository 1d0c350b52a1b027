// What a file's earlier results are still worth when its mapped tests changed (pure, so the lab tests it).

/**
 * `before` and `now` map each mapped test file to the fingerprint of its own import closure (the source file
 * under test left out). 'same': nothing changed. 'added': every earlier test file is still mapped and unchanged
 * and new ones were added — a mutant an earlier file killed still fails that file, so only the mutants that were
 * not killed need to run again (against the whole new list). 'full': a test file was changed or removed, or
 * there is no per-file record: every mutant runs again.
 */
export function rerunScope(before, now) {
  if (before === null || typeof before !== 'object') return 'full'
  const old = Object.entries(before)
  for (const [t, h] of old) if (now[t] !== h) return 'full'
  return Object.keys(now).length === old.length ? 'same' : 'added'
}

/** Statuses that are final whatever tests are added (a killed mutant stays killed by the test that killed it). */
const FINAL = new Set(['Killed', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored'])

/**
 * Drops from a Stryker incremental report the mutants that were not killed (survived, no coverage), so the next
 * run tests them again and reuses the rest. With `timeouts`, timed-out mutants are dropped too: a timeout on a
 * loaded machine may be a survivor that ran slow, so `--recheck-timeouts` tests them again on a quiet one.
 * Returns how many it dropped.
 */
export function dropUnkilled(incremental, { timeouts = false } = {}) {
  let dropped = 0
  for (const f of Object.values(incremental.files ?? {})) {
    const keep = f.mutants.filter(m => FINAL.has(m.status) && !(timeouts && m.status === 'Timeout'))
    dropped += f.mutants.length - keep.length
    f.mutants = keep
  }
  return dropped
}
