// CST → AST: turns Chevrotain's concrete tree into the typed AST with spans. Tolerates the partial trees
// that parser recovery leaves behind (a statement missing a required piece is dropped; its parse error was
// already reported), and reports string-literal problems (unterminated, bad escapes).
import type { CstNode, IToken } from 'chevrotain'
import type * as A from './ast.js'
import { UPGRADE_OPTIONS } from './ast.js'
import type { Diagnostics } from './diagnostic.js'
import { listRule } from './parser.js'
import { declRule, declStmtRule, type DeclarationSyntax, type Fields, type Piece, type StatementSyntax } from './syntax.js'

type Child = { name: string; node?: CstNode; tok?: IToken; offset: number }

/** The fields a piece fills. */
function fieldsOf(p: Piece): string[] {
  switch (p.t) {
    case 'keyword': return []
    case 'optional': return fieldsOf(p.piece)
    default: return [p.field]
  }
}

const isNode = (x: CstNode | IToken): x is CstNode => (x as CstNode).children !== undefined

/** A node's children in source order (Chevrotain groups them by name; order matters for lists). */
function ordered(n: CstNode): Child[] {
  const out: Child[] = []
  for (const [name, list] of Object.entries(n.children)) {
    for (const x of list) {
      if (isNode(x)) out.push({ name, node: x, offset: x.location?.startOffset ?? Number.NaN })
      else if (!x.isInsertedInRecovery && Number.isFinite(x.startOffset)) out.push({ name, tok: x, offset: x.startOffset })
    }
  }
  return out.filter(c => Number.isFinite(c.offset)).sort((a, b) => a.offset - b.offset)
}

const toks = (n: CstNode, name: string): IToken[] =>
  ((n.children[name] ?? []) as IToken[]).filter(t => !t.isInsertedInRecovery && Number.isFinite(t.startOffset))
const tok = (n: CstNode, name: string): IToken | undefined => toks(n, name)[0]
const nodes = (n: CstNode, name: string): CstNode[] => (n.children[name] ?? []) as CstNode[]
const node = (n: CstNode, name: string): CstNode | undefined => nodes(n, name)[0]

export class AstBuilder {
  /**
   * `fixes`: quantities already reported as mistyped (`5 minutes`), by offset, read as what was meant
   * (`5m`) so the checker does not report them a second time.
   */
  constructor(private readonly file: string, private readonly diags: Diagnostics, private readonly fixes: ReadonlyMap<number, string> = new Map(),
    /** The policy statements' syntax declarations, by their rule name (`ratelimitStmt`). */
    private readonly policies: ReadonlyMap<string, StatementSyntax> = new Map(),
    /** The policies' top-level declarations, by their rule name (`jwtDecl`). */
    declarations: readonly DeclarationSyntax[] = []) {
    this.declarations = new Map(declarations.map(d => [declRule(d.keyword), d]))
  }

  private readonly declarations: ReadonlyMap<string, DeclarationSyntax>

  span(t: IToken): A.Span {
    return { file: this.file, line: t.startLine ?? 1, col: t.startColumn ?? 1, len: Math.max(1, t.image.length), offset: t.startOffset }
  }

  word(t: IToken): A.WordV { return { kind: 'word', value: t.image, span: this.span(t) } }

  str(t: IToken): A.StrV {
    const span = this.span(t)
    const unterminated = t.tokenType.name === 'UnterminatedString'
    if (unterminated) {
      this.diags.error('E0003', span, 'unterminated string', { label: 'this string has no closing quote', hint: 'add `"` at the end of the string (strings cannot span lines; use `\\n`)' })
    }
    const inner = t.image.slice(1, unterminated ? undefined : -1)
    return { kind: 'str', value: this.unescape(inner, span), span, ...(unterminated ? { unterminated } : {}) }
  }

  private unescape(s: string, span: A.Span): string {
    if (!s.includes('\\')) return s
    return s.replace(/\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)/g, (m, e: string, at: number) => {
      switch (e[0]) {
        case 'n': if (e === 'n') return '\n'; break
        case 't': if (e === 't') return '\t'; break
        case 'r': if (e === 'r') return '\r'; break
        case '"': return '"'
        case '\\': return '\\'
        case 'u': {
          const hex = e.startsWith('u{') ? e.slice(2, -1) : e.slice(1)
          if (hex.length > 0) { const cp = parseInt(hex, 16); if (cp <= 0x10ffff) return String.fromCodePoint(cp) }
        }
      }
      this.diags.error('E0004', { ...span, col: span.col + 1 + at, offset: span.offset + 1 + at, len: m.length },
        `invalid escape \`${m}\` in string`, { hint: 'strings know `\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{…}`' })
      return m
    })
  }

  qty(t: IToken): A.QtyV {
    const raw = this.fixes.get(t.startOffset) ?? t.image
    const m = /^(\d+(?:\.\d+)?)(.*)$/.exec(raw)!
    return { kind: 'qty', raw, num: Number(m[1]), unit: m[2], span: this.span(t) }
  }

  addr(t: IToken): A.AddrV { return { kind: 'addr', raw: t.image, span: this.span(t) } }

  value(t: IToken): A.Value {
    switch (t.tokenType.name) {
      case 'Quantity': return this.qty(t)
      case 'StringLit': case 'UnterminatedString': return this.str(t)
      case 'HostPort': return this.addr(t)
      default: return this.word(t)
    }
  }

  name(n: CstNode | undefined): A.NameV | undefined {
    if (n === undefined) return undefined
    const t = ordered(n)[0]?.tok
    if (t === undefined) return undefined
    return t.tokenType.name === 'StringLit' || t.tokenType.name === 'UnterminatedString' ? this.str(t) : this.word(t)
  }

  // ── file and declarations ────────────────────────────────────────────────────────────────────

  fileAst(cst: CstNode, comments: IToken[]): A.FileAst {
    const decls: A.Decl[] = []
    for (const c of ordered(cst)) {
      if (c.node === undefined) continue
      const d = this.decl(c.name, c.node)
      if (d !== undefined) decls.push(d)
    }
    return { file: this.file, decls, comments: comments.map(t => ({ text: t.image, span: this.span(t) })) }
  }

  private endLine(n: CstNode, start: A.Span): number {
    const rb = tok(n, 'RBrace') ?? (n.children.routeBody ? tok(node(n, 'routeBody')!, 'RBrace') : undefined)
    return rb?.startLine ?? start.line
  }

  private decl(rule: string, n: CstNode): A.Decl | undefined {
    switch (rule) {
      case 'includeDecl': {
        const kw = tok(n, 'Include'), p = tok(n, 'AnyString')
        if (kw === undefined || p === undefined) return undefined
        const span = this.span(kw)
        return { kind: 'include', path: this.str(p), span, endLine: span.line }
      }
      case 'upstreamDecl': {
        const kw = tok(n, 'Upstream'), name = tok(n, 'Word')
        if (kw === undefined || name === undefined) return undefined
        const span = this.span(kw)
        return { kind: 'upstream', name: this.word(name), body: this.stmts(n, 'upstreamStmt', s => this.upstreamStmt(s)), span, endLine: this.endLine(n, span) }
      }
      case 'policyDecl': case 'routeDecl': {
        const kw = tok(n, rule === 'policyDecl' ? 'Policy' : 'Route'), name = tok(n, 'Word'), body = node(n, 'routeBody')
        if (kw === undefined || name === undefined) return undefined
        const span = this.span(kw)
        const stmts = body === undefined ? [] : this.stmts(body, 'routeStmt', s => this.routeStmt(s))
        return { kind: rule === 'policyDecl' ? 'policy' : 'route', name: this.word(name), body: stmts, span, endLine: this.endLine(n, span) }
      }
      case 'defaultsDecl': {
        const kw = tok(n, 'Defaults')
        if (kw === undefined) return undefined
        const span = this.span(kw)
        const body: (A.RouteStmt | A.UpstreamStmt)[] = []
        for (const c of ordered(n)) {
          if (c.name === 'routeStmt') { const s = this.routeStmt(c.node!); if (s) body.push(s) }
          if (c.name === 'upstreamStmt') { const s = this.upstreamStmt(c.node!); if (s) body.push(s) }
        }
        return { kind: 'defaults', body, span, endLine: this.endLine(n, span) }
      }
    }
    const d = this.declarations.get(rule)
    return d === undefined ? undefined : this.declaration(n, d)
  }

  /**
   * A policy's declaration `KEYWORD NAME { … }`: each statement read by the syntax its leading keyword names.
   * The keyword token is the first child (keywords are Words too, so the name is the first `Word` after it).
   */
  private declaration(n: CstNode, d: DeclarationSyntax): A.Declaration | undefined {
    const kids = ordered(n)
    const kw = kids[0]?.tok
    const name = kids[1]?.name === 'Word' ? kids[1].tok : undefined
    if (kw === undefined || kw.image !== d.keyword || name === undefined) return undefined
    const span = this.span(kw)
    const body = this.stmts(n, declStmtRule(d.keyword), s => {
      const sk = ordered(s)
      const lead = sk[0]?.tok
      const syntax = lead === undefined ? undefined : d.statements.find(x => x.keyword === lead.image)
      if (lead === undefined || syntax === undefined) return undefined
      const f = this.pieces(syntax.pieces, sk, { i: 1 }, `${d.keyword}_${syntax.keyword}`)
      return f === undefined ? undefined : syntax.build(f, this.span(lead))
    })
    return { kind: d.keyword as unknown as A.DeclKind, name: this.word(name), body, span, endLine: this.endLine(n, span) }
  }

  private stmts<S>(n: CstNode, rule: string, f: (s: CstNode) => S | undefined): S[] {
    const out: S[] = []
    for (const c of nodes(n, rule)) { const s = f(c); if (s !== undefined) out.push(s) }
    return out
  }

  optionList(n: CstNode | undefined): A.OptionAst[] {
    if (n === undefined) return []
    const out: A.OptionAst[] = []
    for (const o of nodes(n, 'optionItem')) {
      const kids = ordered(o).filter(c => c.tok !== undefined && c.name !== 'Comma')
      if (kids.length === 0 || kids[0].name !== 'Word') continue
      const name = this.word(kids[0].tok!)
      out.push({ name, values: kids.slice(1).map(c => this.value(c.tok!)), span: name.span })
    }
    return out
  }

  // ── upstream statements ───────────────────────────────────────────────────────────────

  private upstreamStmt(s: CstNode): A.UpstreamStmt | undefined {
    const r = node(s, 'replicasStmt'), b = node(s, 'balanceStmt'), h = node(s, 'healthStmt'), o = node(s, 'optionsStmt')
    if (r !== undefined) {
      const kw = tok(r, 'Replicas')
      if (kw === undefined) return undefined
      const addrs = ordered(r).filter(c => c.tok !== undefined && c.name !== 'Replicas' && c.name !== 'Comma').map(c => this.value(c.tok!))
      return { kind: 'replicas', addrs, span: this.span(kw) }
    }
    if (b !== undefined) {
      const kw = tok(b, 'Balance'), v = tok(b, 'Word')
      if (kw === undefined || v === undefined) return undefined
      return { kind: 'balance', value: this.word(v), span: this.span(kw) }
    }
    if (h !== undefined) {
      const kw = tok(h, 'Health'), mode = tok(h, 'Active') ?? tok(h, 'Passive')
      if (kw === undefined || mode === undefined) return undefined
      return { kind: 'health', mode: mode.image === 'active' ? 'active' : 'passive', options: this.optionList(node(h, 'optionList')), span: this.span(kw) }
    }
    if (o !== undefined) {
      const kw = tok(o, 'Pool') ?? tok(o, 'Bulkhead') ?? tok(o, 'Breaker')
      if (kw === undefined) return undefined
      return { kind: kw.image as 'pool' | 'bulkhead' | 'breaker', options: this.optionList(node(o, 'optionList')), span: this.span(kw) }
    }
    return undefined
  }

  // ── route statements ─────────────────────────────────────────────────────────────────────────

  routeStmt(s: CstNode): A.RouteStmt | undefined {
    const first = ordered(s)[0]
    if (first === undefined) return undefined
    if (first.node !== undefined) {
      switch (first.name) {
        case 'matchStmt': return this.matchStmt(first.node)
        case 'respondStmt': {
          const kw = tok(first.node, 'Respond'), tail = node(first.node, 'respondTail')
          const redirect = tok(first.node, 'Redirect'), status = tok(first.node, 'Quantity'), target = tok(first.node, 'AnyString')
          if (kw && redirect) {
            if (status === undefined || target === undefined) return undefined
            return { kind: 'respond', status: this.qty(status), body: null, headers: [], extraBodies: [], redirect: { target: this.str(target), span: this.span(redirect) }, span: this.span(kw) }
          }
          return kw && tail ? this.respondTail(tail, this.span(kw)) : undefined
        }
        case 'proxyStmt': return this.proxyStmt(first.node)
      }
      const syntax = this.policies.get(first.name)
      return syntax === undefined ? undefined : this.policyStmt(first.node, syntax)
    }
    const kw = first.tok!
    const span = this.span(kw)
    const q = tok(s, 'Quantity'), w = toks(s, 'Word')
    switch (kw.image) {
      case 'timeout': return q ? { kind: 'timeout', value: this.qty(q), span } : undefined
      case 'max_body': return q ? { kind: 'max_body', value: this.qty(q), span } : undefined
      case 'retry': return q ? { kind: 'retry', count: this.qty(q), options: this.optionList(node(s, 'optionList')), span } : undefined
      case 'use': return w[0] ? { kind: 'use', policy: this.word(w[0]), span } : undefined
      case 'upgrade': {
        if (w[0] === undefined) return undefined
        const opts = this.optionList(node(s, 'optionList'))
        // a valueless word that is not one of upgrade's options names another protocol (`upgrade websocket mqtt`)
        const extra = opts.filter(o => o.values.length === 0 && !UPGRADE_OPTIONS.includes(o.name.value))
        return { kind: 'upgrade', protocols: [this.word(w[0]), ...extra.map(o => o.name)], options: opts.filter(o => !extra.includes(o)), span }
      }
    }
    return undefined
  }

  private matchStmt(n: CstNode): A.MatchStmt | undefined {
    const kw = tok(n, 'Match')
    if (kw === undefined) return undefined
    const m: A.MatchStmt = { kind: 'match', hosts: [], hostSpan: null, path: null, methods: [], methodSpan: null, header: null, query: null, cookie: null, repeated: [], span: this.span(kw) }
    const kids = ordered(n)
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]
      if (c.tok === undefined) continue
      const span = this.span(c.tok)
      switch (c.name) {
        case 'Host': {
          if (m.hostSpan !== null) m.repeated.push({ what: 'host', span, first: m.hostSpan })
          m.hostSpan = span
          const list = kids[i + 1]?.node
          if (list !== undefined) m.hosts.push(...toks(list, 'AnyString').map(t => this.str(t)))
          break
        }
        case 'Path': {
          let mode: 'exact' | 'prefix' | null = null
          let j = i + 1
          if (kids[j]?.name === 'Prefix' || kids[j]?.name === 'Exact') { mode = kids[j].name === 'Prefix' ? 'prefix' : 'exact'; j++ }
          const v = kids[j]?.name === 'AnyString' ? kids[j].tok : undefined
          if (v === undefined) break
          if (m.path !== null) m.repeated.push({ what: 'path', span, first: m.path.span })
          m.path = { mode, value: this.str(v), span }
          break
        }
        case 'Method': {
          if (m.methodSpan !== null) m.repeated.push({ what: 'method', span, first: m.methodSpan })
          m.methodSpan = span
          const list = kids[i + 1]?.node
          if (list !== undefined) m.methods.push(...toks(list, 'Identifier').map(t => this.word(t)))
          break
        }
        case 'Header': {
          const nameNode = kids[i + 1]?.node
          const name = this.name(nameNode)
          if (name === undefined) break
          const v = kids[i + 2]?.name === 'AnyString' ? kids[i + 2].tok : undefined
          if (m.header !== null) m.repeated.push({ what: 'header', span, first: m.header.span })
          m.header = { name, value: v ? this.str(v) : null, span }
          break
        }
        case 'Query':
        case 'Cookie': {
          const name = this.name(kids[i + 1]?.node)
          if (name === undefined) break
          const v = kids[i + 2]?.name === 'AnyString' ? kids[i + 2].tok : undefined
          const what = c.name === 'Query' ? 'query' : 'cookie'
          const prev = m[what]
          if (prev != null) m.repeated.push({ what, span, first: prev.span })
          m[what] = { name, value: v ? this.str(v) : null, span }
          break
        }
      }
    }
    return m
  }

  // ── policy statements, read by their syntax declarations ───────────────────────────────────────

  /**
   * A policy statement: the pieces of its declaration read in order from the CST, then its `build`. Keywords may
   * be missing (parser recovery inserted them); a missing value drops the statement, whose parse error was
   * already reported, as for the core's statements.
   */
  private policyStmt(n: CstNode, syntax: StatementSyntax): A.RouteStmt | undefined {
    const kids = ordered(n)
    const lead = kids[0]?.tok
    if (lead === undefined) return undefined
    const at = { i: 1 }
    const f = this.pieces(syntax.pieces, kids, at, syntax.keyword)
    return f === undefined ? undefined : (syntax.build(f, this.span(lead)) as unknown as A.RouteStmt)
  }

  private pieces(ps: Piece[], kids: Child[], at: { i: number }, kind: string): Fields | undefined {
    const f: Fields = {}
    for (const p of ps) if (!this.piece(p, kids, at, kind, f)) return undefined
    return f
  }

  /** Reads one piece at `at` into `f`; false when a value it needs is missing. */
  private piece(p: Piece, kids: Child[], at: { i: number }, kind: string, f: Fields): boolean {
    const c = kids[at.i]
    const tokenAt = (name: string): IToken | undefined => (c?.tok !== undefined && c.name === name ? c.tok : undefined)
    switch (p.t) {
      case 'keyword': if (c?.tok !== undefined && c.tok.image === p.word && c.name !== 'Word') at.i++; return true
      case 'word': { const t = tokenAt('Word'); if (t === undefined) return false; at.i++; f[p.field] = this.word(t); return true }
      case 'identifier': { const t = tokenAt('Identifier'); if (t === undefined) return false; at.i++; f[p.field] = this.word(t); return true }
      case 'string': { const t = tokenAt('AnyString'); if (t === undefined) return false; at.i++; f[p.field] = this.str(t); return true }
      case 'quantity': { const t = tokenAt('Quantity'); if (t === undefined) return false; at.i++; f[p.field] = this.qty(t); return true }
      case 'name': {
        if (c?.name !== 'name') return false
        at.i++
        const v = this.name(c.node)
        if (v === undefined) return false
        f[p.field] = v
        return true
      }
      case 'options': {
        if (c?.name === 'optionList') { at.i++; f[p.field] = this.optionList(c.node) } else f[p.field] = []
        return true
      }
      case 'choice': {
        const alt = c?.tok === undefined ? undefined : p.alts.find(a => a.word === c.tok!.image && c.name !== 'Word')
        if (alt === undefined) return false
        at.i++
        const rest = this.pieces(alt.then, kids, at, kind)
        if (rest === undefined) return false
        f[p.field] = { word: alt.word, span: this.span(c!.tok!), ...rest }
        return true
      }
      case 'optional': {
        const from = at.i
        if (this.piece(p.piece, kids, at, kind, f)) return true
        at.i = from
        for (const name of fieldsOf(p.piece)) f[name] = null
        return true
      }
      case 'repeat': {
        const out: unknown[] = []
        for (;;) {
          const from = at.i, one: Fields = {}
          if (at.i >= kids.length || !this.piece(p.piece, kids, at, kind, one)) { at.i = from; break }
          out.push(one[fieldsOf(p.piece)[0]])
          if (p.commas === true && kids[at.i]?.name === 'Comma') at.i++
        }
        if (out.length === 0) return false
        f[p.field] = out
        return true
      }
      case 'list': {
        const rule = listRule(kind, p.field)
        const items: Fields[] = []
        while (at.i < kids.length && (kids[at.i].name === rule || kids[at.i].name === 'Comma')) {
          const k = kids[at.i++]
          if (k.node === undefined) continue
          const item = this.pieces(p.item, ordered(k.node).filter(x => x.name !== 'Newline'), { i: 0 }, kind)
          if (item !== undefined) items.push(item)
        }
        f[p.field] = items
        return true
      }
    }
  }

  private respondTail(n: CstNode, span: A.Span): A.RespondStmt | undefined {
    const status = tok(n, 'Quantity')
    if (status === undefined) return undefined
    const r: A.RespondStmt = { kind: 'respond', status: this.qty(status), body: null, headers: [], extraBodies: [], redirect: null, span }
    const kids = ordered(n)
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]
      if (c.name === 'Json' || c.name === 'Text' || c.name === 'Body') {
        const v = kids[i + 1]?.name === 'AnyString' ? kids[i + 1].tok : undefined
        if (v === undefined) continue
        const b: A.RespondBody = { as: c.tok!.image as 'json' | 'text' | 'body', value: this.str(v), span: this.span(c.tok!) }
        if (r.body === null) r.body = b
        else r.extraBodies.push(b.span)
      } else if (c.name === 'Header') {
        const name = this.name(kids[i + 1]?.node)
        const v = kids[i + 2]?.name === 'AnyString' ? kids[i + 2].tok : undefined
        if (name !== undefined && v !== undefined) r.headers.push({ name, value: this.str(v), span: this.span(c.tok!) })
      }
    }
    return r
  }

  private proxyStmt(n: CstNode): A.ProxyStmt | undefined {
    const kw = tok(n, 'Proxy')
    if (kw === undefined) return undefined
    const targets: A.ProxyStmt['targets'] = []
    for (const t of nodes(n, 'proxyTarget')) {
      const w = tok(t, 'Word'), q = tok(t, 'Quantity')
      if (w !== undefined) targets.push({ upstream: this.word(w), weight: q ? this.qty(q) : null })
    }
    const fb = tok(n, 'Fallback'), tail = node(n, 'respondTail')
    const fallback = fb !== undefined && tail !== undefined ? this.respondTail(tail, this.span(fb)) ?? null : null
    return { kind: 'proxy', targets, fallback, span: this.span(kw) }
  }
}
