// `gwc fmt`: formats .gwp files into the canonical layout (print.ts). It refuses any file it cannot format
// without losing text: syntax errors, or conditions the AST keeps only once (`path "/a" path "/b"`). Every
// result is re-parsed and compared with the original AST and comments before it is handed out.
import { readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join, basename } from 'node:path'
import type * as A from '../../grammar/ast.js'
import { Diagnostics, type Diagnostic } from '../../grammar/index.js'
import { parseFile } from '../parse.js'
import { renderGithub, renderJson, renderText, summary } from '../diagnostics/render.js'
import { printFile, type PrintOptions } from './print.js'

export interface FormatResult {
  /** The canonical text; undefined when the file was refused (see diagnostics). */
  formatted: string | undefined
  /** True when `formatted` differs from the input. */
  changed: boolean
  diagnostics: Diagnostic[]
}

/**
 * The AST with everything positional removed (spans, end lines, file names, comments), and `path` without
 * a mode read as `exact` (the printer writes `exact` away). Two files with equal shapes mean the same
 * policy. Used to prove that printing lost nothing, and by tests.
 */
export function astShape(ast: A.FileAst): unknown {
  const DROP = new Set(['span', 'hostSpan', 'methodSpan', 'endLine', 'file', 'comments', 'repeated', 'extraBodies', 'unterminated'])
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk)
    if (x === null || typeof x !== 'object') return x
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) if (!DROP.has(k)) out[k] = walk(v)
    if (out.kind === 'match' && out.path !== null && typeof out.path === 'object') {
      const p = out.path as Record<string, unknown>
      out.path = { ...p, mode: p.mode ?? 'exact' }
    }
    return out
  }
  return walk(ast.decls)
}

const commentTexts = (ast: A.FileAst): string[] => ast.comments.map(c => c.text.replace(/\s+$/, ''))

/**
 * Prints `ast` and proves the output reads back to the same AST and the same comments. Throws (a bug in
 * the printer, never a user error) when it does not, so no caller ever writes text that lost something.
 */
export function printVerified(ast: A.FileAst, opts: PrintOptions = {}): string {
  const text = printFile(ast, opts)
  const back = parseFile(text, ast.file)
  const problems: string[] = []
  if (back.diagnostics.errorCount > 0) problems.push(`the output does not parse: ${back.diagnostics.list[0].message} at line ${back.diagnostics.list[0].line}`)
  else if (JSON.stringify(astShape(back.ast)) !== JSON.stringify(astShape(ast))) problems.push('the output means something else')
  const before = commentTexts(ast).sort(), after = commentTexts(back.ast).sort()
  if (JSON.stringify(before) !== JSON.stringify(after)) problems.push(`comments changed (${before.length} before, ${after.length} after)`)
  if (problems.length > 0) throw new Error(`gwc internal error while printing ${ast.file}: ${problems.join('; ')} (please report this with the file)`)
  return text
}

/** Information the AST keeps only once: formatting would silently drop the rest, so refuse instead. */
function lossy(ast: A.FileAst, text: string, d: Diagnostics): void {
  const refuse = (span: A.Span, what: string) => d.error('E0102', span, `\`${text.slice(span.offset, span.offset + span.len)}\` is given twice in one ${what}`, {
    label: 'given again here', hint: 'keep one of them; `gwc fmt` will not drop text it cannot print',
  })
  const visitRoute = (s: A.RouteStmt | A.UpstreamStmt) => {
    if (s.kind === 'match') for (const r of s.repeated) refuse(r.span, '`match`')
    if (s.kind === 'respond') for (const r of s.extraBodies) refuse(r, 'response')
    if (s.kind === 'proxy' && s.fallback) for (const r of s.fallback.extraBodies) refuse(r, 'response')
  }
  for (const decl of ast.decls) if (decl.kind === 'route' || decl.kind === 'policy' || decl.kind === 'defaults') decl.body.forEach(visitRoute)
}

/** Formats one .gwp text. Never throws on bad input: a file with errors comes back refused, with diagnostics. */
export function formatSource(text: string, file: string): FormatResult {
  const d = new Diagnostics()
  const { ast } = parseFile(text, file, d)
  if (d.errorCount === 0) lossy(ast, text, d)
  if (d.errorCount > 0) return { formatted: undefined, changed: false, diagnostics: d.sorted() }
  const formatted = printVerified(ast)
  return { formatted, changed: formatted !== text, diagnostics: d.sorted() }
}

// ── files ───────────────────────────────────────────────────────────────────────────────────────

export interface FormattedFile extends FormatResult {
  /** As given (or found under a directory); `-` is standard input. */
  path: string
  text: string
}

/** The .gwp files for `paths`: files as given, directories searched recursively (dot folders and node_modules skipped). */
export function gwpFiles(paths: string[]): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      if (f.startsWith('.') || f === 'node_modules') continue
      const p = join(dir, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (f.endsWith('.gwp')) out.push(p)
    }
  }
  for (const p of paths) {
    if (p !== '-' && statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p)
    else out.push(p)
  }
  return out
}

/** Reads and formats each file (`-` reads standard input). Unreadable files come back refused with E0602. */
export function formatFiles(paths: string[]): FormattedFile[] {
  return gwpFiles(paths).map(path => {
    let text: string
    try { text = readFileSync(path === '-' ? 0 : path, 'utf8') } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message
      const diagnostics: Diagnostic[] = [{ code: 'E0602', severity: 'error', message: `cannot read \`${path}\`: ${why}`, file: path, line: 1, col: 1, len: 1 }]
      return { path, text: '', formatted: undefined, changed: false, diagnostics }
    }
    return { path, text, ...formatSource(text, path === '-' ? '<stdin>' : path) }
  })
}

/**
 * Replaces a file's content: written to a temporary file next to it and renamed over it (through a
 * symlink to its target, keeping its mode), so a crash never leaves a half-written policy behind.
 */
export function writeFileAtomic(path: string, text: string): void {
  const real = realpathSync(path)
  const mode = statSync(real).mode & 0o7777
  const tmp = join(dirname(real), `.${basename(real)}.${process.pid}.fmt.tmp`)
  writeFileSync(tmp, text)
  chmodSync(tmp, mode)
  renameSync(tmp, real)
}

// ── the command ─────────────────────────────────────────────────────────────────────────────────

/** What a command prints and its exit status, for bin/gwc to pass on. */
export interface CommandOutput { code: number; out: string; err: string }
export type DiagnosticFormat = 'text' | 'json' | 'github'

/**
 * Diagnostics as bin/gwc prints them: text (with source lines) goes to stderr; json and github go to
 * stdout unless stdout carries the command's own output (`toStdout` false).
 */
export function renderDiagnostics(diags: Diagnostic[], texts: Map<string, string>, format: DiagnosticFormat, toStdout: boolean): { out: string; err: string } {
  if (format === 'json' || format === 'github') {
    const s = format === 'json' ? renderJson(diags) : renderGithub(diags)
    return toStdout ? { out: s, err: '' } : { out: '', err: s }
  }
  return { out: '', err: diags.length > 0 ? renderText(diags, texts) : '' }
}

export type FmtMode = 'print' | 'write' | 'check'

/**
 * `gwc fmt`: `print` writes the formatted text of one file to stdout; `write` rewrites files in place;
 * `check` lists the files that are not formatted. Exit 1 on any refused file (syntax errors) and, for
 * `check`, on any unformatted file; 2 for bad usage. Refused files are never touched.
 */
export function runFmt(paths: string[], mode: FmtMode, format: DiagnosticFormat = 'text'): CommandOutput {
  if (paths.length === 0) return { code: 2, out: '', err: 'gwc: fmt needs a .gwp file (or `-` for standard input)\n' }
  const yaml = paths.find(p => /\.ya?ml$/.test(p))
  if (yaml !== undefined) return { code: 2, out: '', err: `gwc: fmt formats .gwp files; \`gwc convert ${yaml}\` prints a YAML policy as .gwp\n` }
  const files = formatFiles(paths)
  if (mode === 'print' && files.length !== 1) return { code: 2, out: '', err: `gwc: fmt prints one file (${files.length} given); use --write or --check for several\n` }
  const diags = files.flatMap(f => f.diagnostics)
  const texts = new Map(files.map(f => [f.path === '-' ? '<stdin>' : f.path, f.text]))
  let out = '', err = ''
  const refused = files.filter(f => f.formatted === undefined)
  const changed = files.filter(f => f.formatted !== undefined && f.changed)
  if (mode === 'print' && files[0].formatted !== undefined) out += files[0].formatted
  if (mode === 'write') {
    for (const f of changed) {
      if (f.path === '-') { out += f.formatted; continue }
      writeFileAtomic(f.path, f.formatted!)
      err += `formatted ${f.path}\n`
    }
  }
  if (mode === 'check') out += changed.map(f => f.path + '\n').join('')
  const r = renderDiagnostics(diags, texts, format, mode !== 'print')
  out += r.out
  err += r.err
  if (format === 'text' && refused.length > 0) err += `${summary(diags)}: ${refused.length} file${refused.length === 1 ? '' : 's'} not formatted (fix the errors first)\n`
  if (format === 'text' && mode === 'check' && changed.length > 0) err += `${changed.length} file${changed.length === 1 ? '' : 's'} need${changed.length === 1 ? 's' : ''} formatting: run \`gwc fmt --write\`\n`
  const code = refused.length > 0 || (mode === 'check' && changed.length > 0) ? 1 : 0
  return { code, out, err }
}
