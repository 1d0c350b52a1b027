// The files a compiled policy set is made of, for `gw run … --watch`: the entry files and directories, every
// file an `include` pulled in, and the targets of includes that could not be read yet (creating one is a change).
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { POLICY_EXTENSIONS, type LoadedSource } from './sources.js'

export interface PolicyWatchSet { files: string[]; dirs: { path: string; suffixes: string[] }[] }

/**
 * `entries` are absolute entry paths as given to `gw run`; `sources` are the files one compile loaded (also
 * when it had errors). Include targets are resolved the way the compiler resolves them (relative to the
 * including file).
 */
export function policyWatchSet(entries: string[], sources: readonly LoadedSource[]): PolicyWatchSet {
  const files = new Set<string>()
  const dirs: PolicyWatchSet['dirs'] = []
  for (const e of entries) {
    let isDir = false
    try { isDir = statSync(e).isDirectory() } catch { /* a missing entry is watched as a file */ }
    if (isDir) dirs.push({ path: e, suffixes: POLICY_EXTENSIONS })
    else files.add(e)
  }
  for (const s of sources) {
    files.add(s.path)
    for (const d of s.ast.decls) if (d.kind === 'include' && !d.path.unterminated) files.add(resolve(dirname(s.path), d.path.value))
  }
  return { files: [...files], dirs }
}
