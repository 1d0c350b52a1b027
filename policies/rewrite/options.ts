// The options of a `rewrite` stage, shared by both halves: what the generated module passes to
// `stages.rewrite(options)`.
import type { StageOptionsBase } from '../../config/stage.js'

export type RewriteOptions = StageOptionsBase & (
  /**
   * `strip` and `prefix`: a path equal to `from` or under it (`from` + `/…`) becomes `to` + the rest. Both are
   * in normal form without a trailing `/` (`''` for the root), so the result is in normal form by construction.
   */
  | { op: 'prefix'; from: string; to: string }
  /**
   * `regex`: when `pattern` matches the path, the path becomes lits[0] + group refs[0] + lits[1] + …; the
   * result is re-checked (normal form) before it is used.
   */
  | { op: 'regex'; pattern: string; lits: string[]; refs: number[] }
  /** `host`: the upstream Host: a fixed one, or null for the replica's; `keep` the client's (no edit). */
  | { op: 'host'; host: string | null; keep: boolean }
)

/** A replacement `/u/$1` split at its group references: lits.length === refs.length + 1. */
export interface Template { lits: string[]; refs: number[] }
