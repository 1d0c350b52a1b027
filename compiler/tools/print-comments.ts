// Where comments go when a FileAst is printed. The AST keeps comments apart (FileAst.comments, with spans),
// so each one is attached by position to the declaration or statement it belongs to:
//   - on a line a statement covers (after its first token)  → trailing comment of that statement
//   - after a block's `}` (or after an `include`)           → trailing comment of the declaration
//   - after a block's `{`, with no statement on the line     → header comment of the block
//   - on a line of its own inside a block                    → leading comment of the next statement,
//                                                              or an end-of-block comment
//   - on a line of its own between declarations              → leading comment of the next declaration,
//                                                              or an end-of-file comment
// Positions are compared by offset and line only, never by list order, because the YAML front end lists
// statements in pipeline order rather than in the order the YAML file has them.
import type * as A from '../../grammar/ast.js'

export interface Attached {
  /** Full-line comments printed above. */
  leading: A.CommentAst[]
  /** Comments at the end of the line (a statement split over lines may have several). */
  trailing: A.CommentAst[]
  /** Blocks only: the comment after `{`. */
  header: A.CommentAst[]
  /** Blocks and the file: comments after the last statement. */
  end: A.CommentAst[]
}

/** Attachments by AST node (declarations and statements) and by the FileAst itself (end-of-file). */
export type Placement = Map<object, Attached>

export interface Extent { start: number; startLine: number; endLine: number }

const isSpan = (x: Record<string, unknown>): boolean =>
  typeof x.offset === 'number' && typeof x.line === 'number' && typeof x.file === 'string'

/** The first offset and the line range that the spans inside a node cover. */
export function extentOf(node: object): Extent {
  let start = Infinity, startLine = Infinity, endLine = -Infinity
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object') return
    if (Array.isArray(x)) { x.forEach(walk); return }
    const o = x as Record<string, unknown>
    if (isSpan(o)) {
      const off = o.offset as number, line = o.line as number
      if (off < start) { start = off; startLine = line }
      if (line > endLine) endLine = line
      return
    }
    for (const v of Object.values(o)) walk(v)
  }
  walk(node)
  if (start === Infinity) return { start: 0, startLine: 1, endLine: 1 }
  return { start, startLine: Math.min(startLine, endLine), endLine }
}

function best<T>(xs: T[], key: (x: T) => number, pick: 'min' | 'max'): T | undefined {
  let out: T | undefined
  for (const x of xs) if (out === undefined || (pick === 'max' ? key(x) > key(out) : key(x) < key(out))) out = x
  return out
}

interface Placed { node: object; start: number; startLine: number; endLine: number }

/** Covers line L, starting before offset O: the thing a comment at (O, L) ends the line of. */
const covering = (xs: Placed[], O: number, L: number): Placed | undefined =>
  best(xs.filter(x => x.start < O && x.startLine <= L && x.endLine >= L), x => x.start, 'max')
const following = (xs: Placed[], O: number): Placed | undefined => best(xs.filter(x => x.start > O), x => x.start, 'min')

export function attachComments(ast: A.FileAst): Placement {
  const place: Placement = new Map()
  const at = (o: object): Attached => {
    let a = place.get(o)
    if (a === undefined) { a = { leading: [], trailing: [], header: [], end: [] }; place.set(o, a) }
    return a
  }
  const decls: Placed[] = ast.decls.map(d => ({ node: d, start: d.span.offset, startLine: d.span.line, endLine: Math.max(d.endLine, d.span.line) }))
  const bodies = new Map<object, Placed[]>()
  const stmtsOf = (d: A.Decl): Placed[] => {
    let b = bodies.get(d)
    if (b === undefined) {
      b = d.kind === 'include' ? [] : (d.body as object[]).map(s => ({ node: s, ...extentOf(s) }))
      bodies.set(d, b)
    }
    return b
  }
  // Statements written outside their declaration: the YAML front end moves a route's `breaker` into its
  // upstream's block. A comment at the end of such a line moves with the statement.
  const moved = decls.flatMap(x => stmtsOf(x.node as A.Decl).filter(st => st.startLine < x.startLine || st.startLine > x.endLine))
  for (const c of [...ast.comments].sort((a, b) => a.span.offset - b.span.offset)) {
    const O = c.span.offset, L = c.span.line
    const away = covering(moved, O, L)
    if (away !== undefined) { at(away.node).trailing.push(c); continue }
    const owner = covering(decls, O, L)
    if (owner === undefined) {
      const next = following(decls, O)
      if (next !== undefined) at(next.node).leading.push(c)
      else at(ast).end.push(c)
      continue
    }
    const d = owner.node as A.Decl
    if (d.kind === 'include') { at(d).trailing.push(c); continue }
    const stmts = stmtsOf(d)
    const on = covering(stmts, O, L)
    if (on !== undefined) at(on.node).trailing.push(c)
    else if (L === owner.endLine) at(d).trailing.push(c)
    else if (L === owner.startLine) at(d).header.push(c)
    else {
      const next = following(stmts, O)
      if (next !== undefined) at(next.node).leading.push(c)
      else at(d).end.push(c)
    }
  }
  return place
}
