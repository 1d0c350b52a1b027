// The .gwp printer: a FileAst (from the .gwp parser or the YAML front end) back to canonical .gwp text.
// Used by `gwc fmt` and `gwc convert`. Layout rules live here; where comments go is print-comments.ts.
//
// Canonical layout: two-space indent, one statement per line, `name {` … `}` blocks (single-line blocks
// expanded), one blank line between top-level declarations, options in the order written, `path "/x"`
// for exact and `path prefix "/x"` for prefix paths, quantities and bare names as written, strings
// re-escaped. Printing only ever reads the AST, so text the AST does not hold (commas, `;`, `exact`,
// `fallback respond` vs `fallback`) is normalised, and nothing the AST holds is lost.
import { kindOf } from '../../grammar/ast.js'
import type * as A from '../../grammar/ast.js'
import { attachComments, extentOf, type Attached, type Placement } from './print-comments.js'
import { REGISTRY } from '../policies.js'
import { printName as name, printOptions as options, printValue, quote, words } from './print-values.js'

export { printValue, quote } from './print-values.js'

export interface PrintOptions {
  /**
   * Keep one blank line where the source had one or more between statements or comments (default
   * true, as gofmt does). `gwc convert` turns it off: spans from YAML say nothing about .gwp layout.
   */
  keepBlankLines?: boolean
}

const INDENT = '  '

function respondTail(r: A.RespondStmt): string {
  return words(
    r.status.raw,
    r.body && `${r.body.as} ${quote(r.body.value.value)}`,
    r.headers.map(h => `header ${name(h.name)} ${quote(h.value.value)}`),
  )
}

function match(m: A.MatchStmt): string {
  return words(
    'match',
    m.hosts.length > 0 && ['host', ...m.hosts.map(h => quote(h.value))],
    m.path && ['path', m.path.mode === 'prefix' ? 'prefix' : '', quote(m.path.value.value)],
    m.methods.length > 0 && ['method', ...m.methods.map(w => w.value)],
    m.header && ['header', name(m.header.name), m.header.value ? quote(m.header.value.value) : ''],
    m.query && ['query', name(m.query.name), m.query.value ? quote(m.query.value.value) : ''],
    m.cookie && ['cookie', name(m.cookie.name), m.cookie.value ? quote(m.cookie.value.value) : ''],
  )
}

/** One statement on one line (no indent, no comment). */
export function printStmt(s: A.UpstreamStmt | A.RouteStmt): string {
  switch (s.kind) {
    case 'replicas': return words('replicas', s.addrs.map(printValue))
    case 'balance': return `balance ${s.value.value}`
    case 'health': return words('health', s.mode, options(s.options))
    case 'pool': case 'bulkhead': case 'breaker': return words(s.kind, options(s.options))
    case 'match': return match(s)
    case 'timeout': case 'max_body': return `${s.kind} ${s.value.raw}`
    case 'retry': return words('retry', s.count.raw, options(s.options))
    case 'upgrade': return words('upgrade', s.protocols.map(p => p.value), options(s.options))
    case 'respond': return s.redirect ? `respond redirect ${s.status.raw} ${quote(s.redirect.target.value)}` : `respond ${respondTail(s)}`
    case 'proxy':
      return words('proxy', s.targets.map(t => (t.weight ? `${t.upstream.value} ${t.weight.raw}` : t.upstream.value)).join(', '), s.fallback && `fallback respond ${respondTail(s.fallback)}`)
    case 'use': return `use ${s.policy.value}`
    // a policy stage: its policy prints it
    default: return REGISTRY.of(kindOf(s)).print(s)
  }
}

function declHead(d: A.Decl): string {
  switch (d.kind) {
    case 'include': return `include ${quote(d.path.value)}`
    case 'defaults': return 'defaults'
    default: return `${d.kind} ${d.name.value}`
  }
}

// ── layout ──────────────────────────────────────────────────────────────────────────────────────

const commentText = (c: A.CommentAst): string => c.text.replace(/\s+$/, '')
const withTrailing = (code: string, c: A.CommentAst | undefined): string => (c ? `${code}  ${commentText(c)}` : code)

/** Writes lines, inserting one blank line where the source had a gap (when blank lines are kept). */
class Lines {
  readonly out: string[] = []
  private last: number | undefined
  constructor(private readonly keepBlank: boolean) {}
  /** `from`/`to`: the source lines the thing spans; undefined restarts gap tracking (no blank line). */
  push(text: string, from?: number, to?: number): void {
    if (this.keepBlank && from !== undefined && this.last !== undefined && from > this.last + 1) this.out.push('')
    this.out.push(text)
    this.last = to ?? from
  }
  blank(): void { this.out.push(''); this.last = undefined }
  reset(line?: number): void { this.last = line }
}

function printComments(out: Lines, cs: A.CommentAst[], indent: string): void {
  for (const c of cs) out.push(indent + commentText(c), c.span.line)
}

/** A statement line: extra inner comments go above it, the last one stays at the end of its line. */
/** A statement of a policy's declaration (`issuer …` in `jwt NAME { … }`): its declaration prints it. */
type DeclStmt = A.Declaration['body'][number]

function printStmtLine(out: Lines, s: A.UpstreamStmt | A.RouteStmt | DeclStmt, a: Attached | undefined, indent: string, print: (s: never) => string = printStmt): void {
  printComments(out, a?.leading ?? [], indent)
  const trailing = a?.trailing ?? []
  printComments(out, trailing.slice(0, -1), indent)
  const ext = extentOf(s)
  out.push(withTrailing(indent + print(s as never), trailing[trailing.length - 1]), ext.startLine, ext.endLine)
}

/** How a declaration's body statements print: the core's blocks by printStmt, a policy's by its declaration. */
function bodyPrinter(d: Exclude<A.Decl, A.IncludeDecl>): (s: never) => string {
  switch (d.kind) {
    case 'upstream': case 'policy': case 'route': case 'defaults': return printStmt
    default: { const decl = REGISTRY.declaration(kindOf(d)); return s => decl.print(s) }
  }
}

function printDecl(out: Lines, d: A.Decl, place: Placement): void {
  const a = place.get(d)
  printComments(out, a?.leading ?? [], '')
  const head = declHead(d)
  if (d.kind === 'include') {
    const t = a?.trailing ?? []
    printComments(out, t.slice(0, -1), '')
    out.push(withTrailing(head, t[t.length - 1]), d.span.line, d.endLine)
    return
  }
  const body: (A.UpstreamStmt | A.RouteStmt | DeclStmt)[] = d.body
  const print = bodyPrinter(d)
  const header = a?.header ?? []
  const end = [...(a?.end ?? []), ...(a?.trailing ?? []).slice(1)]
  const after = a?.trailing?.[0]
  if (body.length === 0 && header.length === 0 && end.length === 0) {
    out.push(withTrailing(`${head} {}`, after), d.span.line, d.endLine)
    return
  }
  out.push(withTrailing(`${head} {`, header[0]), d.span.line)
  printComments(out, header.slice(1), INDENT)
  out.reset()
  for (const s of body) printStmtLine(out, s, place.get(s), INDENT, print)
  printComments(out, end, INDENT)
  out.reset()
  out.push(withTrailing('}', after))
}

/**
 * Canonical .gwp text for a file, ending in one newline (empty for an empty file). Comments in
 * `ast.comments` are placed by where their spans fall relative to the declarations and statements.
 */
export function printFile(ast: A.FileAst, opts: PrintOptions = {}): string {
  const out = new Lines(opts.keepBlankLines ?? true)
  const place = attachComments(ast)
  ast.decls.forEach((d, i) => {
    if (i > 0) out.blank()
    printDecl(out, d, place)
  })
  const tail = place.get(ast)?.end ?? []
  if (tail.length > 0) {
    const lastLine = ast.decls.length > 0 ? Math.max(...ast.decls.map(d => d.endLine)) : undefined
    out.reset(lastLine)
    printComments(out, tail, '')
  }
  return out.out.length === 0 ? '' : out.out.join('\n') + '\n'
}
