// `--watch`: notices changes to the files a bundle or policy set is made of and asks for one reload per burst.
// It watches the directories that hold those files and matches entry names, never the files themselves: an
// editor's safe write, `sed -i`, `mv` and `gwc fmt --write` put a new file (a new inode) in place of the old
// one, and a watch on the old inode would see nothing after the first such write.
import { lstatSync, readlinkSync, statSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import type { Logger } from 'pino'

/** What to watch. Absolute paths. */
export interface WatchSet {
  /** Files whose content matters: each is watched by name in its directory (survives rename, delete, re-create). */
  files: string[]
  /** Directories whose policy files all matter (an entry directory): any entry name ending in one of `suffixes`. */
  dirs: { path: string; suffixes: string[] }[]
}

export interface WatchOptions {
  log: Logger
  /** Called once per burst of changes, with the paths that changed (in the order first seen). */
  onChange(paths: string[]): void
  /** Quiet time that ends a burst [100 ms]. */
  debounceMs?: number
  /** A burst that never goes quiet still triggers after this long [1 s]. */
  maxWaitMs?: number
}

export interface PolicyWatcher {
  /** Watch exactly this set from now on (call after every reload attempt: includes come and go). */
  resync(set: WatchSet): void
  close(): void
}

interface DirWatch {
  watcher: FSWatcher | null
  /** Inode of the directory when the watch began: a directory replaced by another is watched afresh. */
  ino: number
  names: Set<string>
  suffixes: string[]
}

/** Starts with nothing watched; call `resync` with the first set. */
export function createPolicyWatcher(o: WatchOptions): PolicyWatcher {
  const debounceMs = o.debounceMs ?? 100
  const maxWaitMs = o.maxWaitMs ?? 1000
  const dirs = new Map<string, DirWatch>()
  let changed: string[] = []
  let quiet: NodeJS.Timeout | null = null
  let deadline: NodeJS.Timeout | null = null
  let closed = false
  const warned = new Set<string>()

  const fire = () => {
    if (quiet !== null) clearTimeout(quiet)
    if (deadline !== null) clearTimeout(deadline)
    quiet = deadline = null
    const paths = changed
    changed = []
    if (!closed && paths.length > 0) o.onChange(paths)
  }
  const note = (path: string) => {
    if (closed) return
    if (!changed.includes(path)) changed.push(path)
    if (quiet !== null) clearTimeout(quiet)
    quiet = setTimeout(fire, debounceMs)
    deadline ??= setTimeout(fire, maxWaitMs)
  }

  const open = (dir: string, d: DirWatch): void => {
    try {
      d.ino = statSync(dir).ino
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // A null name (rare: overflowed event queue) means "something here changed".
        const n = name === null ? null : String(name)
        if (n === null) note(dir)
        else if (d.names.has(n) || d.suffixes.some(s => n.endsWith(s) && !n.startsWith('.'))) note(join(dir, n))
      })
      w.on('error', (e: Error) => {
        // The directory itself went away (deleted or renamed): drop the watch; the reload this triggers
        // resyncs and watches it again if it is back.
        o.log.warn({ dir, err: e.message }, 'watch: directory watch failed')
        w.close()
        d.watcher = null
        note(dir)
      })
      d.watcher = w
      warned.delete(dir)
    } catch (e) {
      d.watcher = null
      if (warned.has(dir)) return
      warned.add(dir)
      o.log.warn({ dir, err: (e as Error).message }, 'watch: cannot watch directory (changes in it are not noticed until it exists and another reload happens)')
    }
  }

  const resync = (set: WatchSet): void => {
    if (closed) return
    const want = new Map<string, { names: Set<string>; suffixes: string[] }>()
    const slot = (dir: string) => { let s = want.get(dir); if (s === undefined) want.set(dir, s = { names: new Set(), suffixes: [] }); return s }
    for (const f of set.files) for (const p of [f, ...symlinksOf(f)]) slot(dirname(p)).names.add(basename(p))
    for (const d of set.dirs) {
      const s = slot(d.path)
      for (const x of d.suffixes) if (!s.suffixes.includes(x)) s.suffixes.push(x)
      // the directory by name in its parent, so a replaced directory is noticed too
      if (dirname(d.path) !== d.path) slot(dirname(d.path)).names.add(basename(d.path))
    }
    for (const [dir, d] of dirs) if (!want.has(dir)) { d.watcher?.close(); dirs.delete(dir) }
    for (const [dir, w] of want) {
      let d = dirs.get(dir)
      let ino = -1
      try { ino = statSync(dir).ino } catch { /* missing: open() reports it */ }
      if (d !== undefined && d.watcher !== null && d.ino === ino) { d.names = w.names; d.suffixes = w.suffixes; continue }
      d?.watcher?.close()
      d = { watcher: null, ino: -1, names: w.names, suffixes: w.suffixes }
      dirs.set(dir, d)
      open(dir, d)
    }
  }

  return {
    resync,
    close: () => {
      closed = true
      if (quiet !== null) clearTimeout(quiet)
      if (deadline !== null) clearTimeout(deadline)
      for (const d of dirs.values()) d.watcher?.close()
      dirs.clear()
    },
  }
}

/**
 * Every symbolic link met while resolving `path`, by its own path. A file reached through links changes when
 * any of them is re-pointed: a Kubernetes ConfigMap volume updates `policy.gwp → ..data/policy.gwp` by
 * renaming a new `..data` link into place, and only a watch on the name `..data` sees that.
 */
export function symlinksOf(path: string): string[] {
  const out: string[] = []
  let rest = path.split(sep).filter(x => x !== '')
  let cur: string = sep
  for (let hops = 0; rest.length > 0 && hops < 40;) {
    const next = join(cur, rest[0])
    rest = rest.slice(1)
    let target: string
    try {
      if (!lstatSync(next).isSymbolicLink()) { cur = next; continue }
      target = readlinkSync(next)
    } catch { break } // missing: nothing further to resolve
    out.push(next)
    hops++
    const abs = isAbsolute(target) ? target : resolve(cur, target)
    rest = [...abs.split(sep).filter(x => x !== ''), ...rest]
    cur = sep
  }
  return out
}

