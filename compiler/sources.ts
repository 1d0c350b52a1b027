// Finds and parses the files of a policy set: entry files and directories, then every `include`, each
// file once. Include cycles and unreadable files are diagnostics, never exceptions.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import type { FileAst, Span } from '../grammar/ast.js'
import type { Diagnostics } from '../grammar/index.js'

/** File access for the compiler, so tests and the fuzzer can compile from memory. */
export interface SourceHost {
  /** Throws when the file cannot be read. */
  readFile(path: string): string
  /** An absolute, normalised path for `rel` written in the file at `from` (or the cwd when from is ''). */
  resolve(from: string, rel: string): string
  isDirectory(path: string): boolean
  listDir(path: string): string[]
  /** How a path is shown in diagnostics and recorded in bundles: relative to the working directory. */
  display(path: string): string
}

export function nodeHost(cwd: string = process.cwd()): SourceHost {
  return {
    readFile: p => readFileSync(p, 'utf8'),
    resolve: (from, rel) => resolve(from === '' ? cwd : dirname(from), rel),
    isDirectory: p => { try { return statSync(p).isDirectory() } catch { return false } },
    listDir: p => readdirSync(p),
    display: p => { const r = relative(cwd, p); return (r.startsWith('..') ? p : r).split(sep).join('/') },
  }
}

export function memoryHost(files: Record<string, string>): SourceHost {
  const norm = (p: string) => p.replace(/\/+/g, '/').split('/').reduce<string[]>((a, s) => (s === '..' ? a.slice(0, -1) : s === '.' || s === '' ? a : [...a, s]), []).join('/')
  return {
    readFile: p => { const t = files[p]; if (t === undefined) throw Object.assign(new Error(`ENOENT: no such file '${p}'`), { code: 'ENOENT' }); return t },
    resolve: (from, rel) => norm((from === '' ? '' : from.split('/').slice(0, -1).join('/') + '/') + rel),
    isDirectory: p => Object.keys(files).some(f => f.startsWith(p + '/')),
    listDir: p => [...new Set(Object.keys(files).filter(f => f.startsWith(p + '/')).map(f => f.slice(p.length + 1).split('/')[0]))],
    display: p => p,
  }
}

export interface LoadedSource {
  path: string
  display: string
  text: string
  ast: FileAst
}

/** A front end for a file kind other than .gwp (the YAML one), producing the same AST. */
export type FrontEnd = (text: string, display: string, d: Diagnostics) => FileAst
export const POLICY_EXTENSIONS = ['.gwp', '.yaml', '.yml']

/**
 * Loads the entry paths (files, or directories whose policy files are taken in name order) and their
 * includes, depth-first, each file once. Returns the files in load order.
 */
/** `gwp` parses a .gwp file (the compiler's grammar, built from its policy registry). */
export function loadSources(entries: string[], host: SourceHost, d: Diagnostics, frontEnds: Record<string, FrontEnd>, gwp: FrontEnd): LoadedSource[] {
  const loaded = new Map<string, LoadedSource>()
  const order: LoadedSource[] = []
  const reportRead = (p: string, e: unknown, at: Span | undefined) => {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
    const why = missing ? 'no such file' : (e as Error).message
    if (at === undefined) {
      // a path given on the command line: nothing to do with includes
      const span: Span = { file: host.display(p), line: 1, col: 1, len: 1, offset: 0 }
      if (missing) d.error('E0602', span, `\`${host.display(p)}\` does not exist`, { hint: 'check the path: it is relative to the current directory' })
      else d.error('E0602', span, `cannot read \`${host.display(p)}\`: ${why}`, { hint: 'check that it is a readable policy file' })
      return
    }
    d.error('E0602', at, `cannot read \`${host.display(p)}\`: ${why}`, { label: 'included here', hint: 'check the path; includes are relative to the including file' })
  }
  const visit = (path: string, stack: string[], at: Span | undefined): void => {
    const cycleAt = stack.indexOf(path)
    if (cycleAt >= 0) {
      const chain = [...stack.slice(cycleAt), path].map(p => '`' + host.display(p) + '`').join(' → ')
      d.error('E0601', at!, `include cycle: ${chain}`, { label: 'includes a file that includes this one', hint: 'remove one include of the cycle; every file is loaded once anyway' })
      return
    }
    if (loaded.has(path)) return
    let text: string
    try { text = host.readFile(path) } catch (e) { reportRead(path, e, at); return }
    const display = host.display(path)
    const ext = POLICY_EXTENSIONS.find(x => path.endsWith(x)) ?? '.gwp'
    const fe = frontEnds[ext]
    const ast = fe !== undefined && ext !== '.gwp' ? fe(text, display, d) : gwp(text, display, d)
    const src: LoadedSource = { path, display, text, ast }
    loaded.set(path, src)
    order.push(src)
    for (const decl of ast.decls) {
      if (decl.kind !== 'include' || decl.path.unterminated) continue
      visit(host.resolve(path, decl.path.value), [...stack, path], decl.path.span)
    }
  }
  for (const e of entries) {
    const p = host.resolve('', e)
    if (host.isDirectory(p)) {
      const files = host.listDir(p).filter(f => POLICY_EXTENSIONS.some(x => f.endsWith(x))).sort()
      for (const f of files) visit(host.resolve('', p + '/' + f), [], undefined)
    } else visit(p, [], undefined)
  }
  return order
}
