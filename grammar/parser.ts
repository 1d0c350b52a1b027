// The .gwp grammar: one Chevrotain CstParser per set of policy syntaxes, built once and reused for every file.
// Statements end at a newline, a `;` or the block's `}`. Option lists (`pool connections 64 idle 30s`) are
// parsed generically as `name value*` and typed by the AST builder, so a misspelt option gets a
// "did you mean" from the checker instead of a bare syntax error. The rules for match, use, proxy, respond,
// settings and the blocks are written here; a policy stage's rule is made from its syntax declaration
// (grammar/syntax.ts) with Chevrotain's indexed DSL methods, so rules can come from data.
import type { CstNode, IOrAlt, IToken, TokenType } from 'chevrotain'
import { CstParser, EOF, EMPTY_ALT } from './chevrotain.js'
import * as T from './tokens.js'
import { createErrorMessageProvider } from './parse-errors.js'
import { declarationKeywordsOf, declRule, declStmtRule, keywordsOf, type DeclarationSyntax, type Piece, type StatementSyntax } from './syntax.js'

type Rule = (idxInCallingRule?: number, ...args: unknown[]) => CstNode

/** The keyword tokens a set of syntax declarations needs, by word. */
export function keywordTokens(syntaxes: readonly StatementSyntax[], declarations: readonly DeclarationSyntax[] = []): Map<string, TokenType> {
  return new Map([...syntaxes.flatMap(keywordsOf), ...declarations.flatMap(declarationKeywordsOf)].map(w => [w, T.keywordToken(w)]))
}

/** What parse errors say about a policy's declaration: its keyword token and its statements' leading keywords. */
export interface DeclarationTokens { keyword: string; lead: TokenType; statements: TokenType[] }

export const declarationTokens = (declarations: readonly DeclarationSyntax[], kw: Map<string, TokenType>): DeclarationTokens[] =>
  declarations.map(d => ({ keyword: d.keyword, lead: kw.get(d.keyword)!, statements: d.statements.map(s => kw.get(s.keyword)!) }))

/** The rule name of a policy statement (`ratelimitStmt`) and of a list's items (`headersStmtOps`). */
export const stmtRule = (kind: string): string => `${kind.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())}Stmt`
export const listRule = (kind: string, field: string): string => `${stmtRule(kind)}${field[0].toUpperCase()}${field.slice(1)}`

export class GwpParser extends CstParser {
  /** The policy statements' rules, in the order of the declarations (the route statement alternatives). */
  private readonly policyRules: Rule[] = []
  /** The policies' top-level declarations' rules (`jwtDecl`), offered after `upstream` in the file rule. */
  private readonly declRules: Rule[] = []
  /** The leading keyword of each policy statement, in the same order (for "did you mean"). */
  readonly stmtKeywords: TokenType[]
  /**
   * The route statement's alternatives, built once: an `OR` written as a literal allocates its array and one
   * object and closure per alternative on every call, which the core's handful affords but a list mapped from
   * the policies would repeat on every statement of every route (bench/compiler/compile.bench.ts).
   */
  private routeStmtAlts: IOrAlt<unknown>[] = []

  constructor(readonly syntaxes: readonly StatementSyntax[], readonly tokens: TokenType[], kw: Map<string, TokenType>, readonly declarations: readonly DeclarationSyntax[] = []) {
    const lead = syntaxes.map(s => kw.get(s.keyword)!)
    super(tokens, { recoveryEnabled: true, errorMessageProvider: createErrorMessageProvider(lead, declarationTokens(declarations, kw)), maxLookahead: 3, nodeLocationTracking: 'onlyOffset' })
    this.stmtKeywords = lead
    for (const s of syntaxes) this.policyRules.push(this.policyRule(s, kw))
    for (const d of declarations) this.declRules.push(this.declarationRule(d, kw))
    this.routeStmtAlts = [
      { ALT: () => this.SUBRULE(this.matchStmt) },
      // the policy stages, read from their syntax declarations
      ...this.policyRules.map((rule, i) => ({ ALT: () => this.subrule(i + 10, rule) })),
      { ALT: () => { this.CONSUME(T.Timeout); this.CONSUME(T.Quantity) } },
      { ALT: () => { this.CONSUME(T.MaxBody); this.CONSUME1(T.Quantity) } },
      { ALT: () => { this.CONSUME(T.Retry); this.CONSUME2(T.Quantity); this.SUBRULE1(this.optionList) } },
      // `upgrade PROTOCOL [PROTOCOL…] [max_open N] [idle D] [lifetime D]`: the first protocol, then an option list
      // (the AST builder reads its valueless words that are not option names as further protocols)
      { ALT: () => { this.CONSUME(T.Upgrade); this.CONSUME2(T.Word); this.SUBRULE2(this.optionList) } },
      { ALT: () => this.SUBRULE(this.respondStmt) },
      { ALT: () => this.SUBRULE(this.proxyStmt) },
      { ALT: () => { this.CONSUME(T.Use); this.CONSUME1(T.Word) } },
    ]
    this.performSelfAnalysis()
  }

  /**
   * The rules of a policy's declaration `KEYWORD NAME { statements }`: the block (`<keyword>Decl`) and one
   * statement of it (`<keyword>Stmt`), whose alternatives are the statements' syntaxes compiled inline (each led
   * by its keyword) and which ends as every statement does.
   */
  private declarationRule(d: DeclarationSyntax, kw: Map<string, TokenType>): Rule {
    const n = { i: 0, sep: 0 }
    const alts = d.statements.map(s => {
      const i = n.i++, lead = kw.get(s.keyword)!, body = this.compilePieces(s.pieces, kw, n, `${d.keyword}_${s.keyword}`)
      return { ALT: () => { this.consume(i, lead); body() } }
    })
    const orIdx = n.i++, endIdx = n.i++
    const stmt = this.RULE(declStmtRule(d.keyword), () => { this.or(orIdx, alts); this.subrule(endIdx, this.end) })
    const lead = kw.get(d.keyword)!
    return this.RULE(declRule(d.keyword), () => {
      this.consume(0, lead)
      this.consume(1, T.Word)
      this.consume(2, T.LBrace)
      this.many(0, () => this.or(0, [
        { ALT: () => this.consume(3, T.Newline) },
        { ALT: () => this.consume(4, T.Semi) },
        { ALT: () => this.subrule(0, stmt) },
      ]))
      this.consume(5, T.RBrace)
    })
  }

  /**
   * One rule for a policy statement: its leading keyword, then its pieces. Chevrotain's indexed methods
   * (`consume(idx, …)`) need the same index for a call every time the rule runs, so the pieces are compiled
   * once into closures with their indices fixed here, not counted while parsing.
   */
  private policyRule(s: StatementSyntax, kw: Map<string, TokenType>): Rule {
    const n = { i: 0, sep: 0 }
    const lead = kw.get(s.keyword)!
    const leadIdx = n.i++
    const body = this.compilePieces(s.pieces, kw, n, s.keyword)
    return this.RULE(stmtRule(s.keyword), () => { this.consume(leadIdx, lead); body() })
  }

  private compilePieces(ps: Piece[], kw: Map<string, TokenType>, n: { i: number; sep: number }, kind: string): () => void {
    const steps = ps.map((p): (() => void) => {
      switch (p.t) {
        case 'keyword': { const i = n.i++, tok = kw.get(p.word)!; return () => { this.consume(i, tok) } }
        case 'word': { const i = n.i++; return () => { this.consume(i, T.Word) } }
        case 'identifier': { const i = n.i++; return () => { this.consume(i, T.Identifier) } }
        case 'name': { const i = n.i++; return () => { this.subrule(i, this.name) } }
        case 'string': { const i = n.i++; return () => { this.consume(i, T.AnyString) } }
        case 'quantity': { const i = n.i++; return () => { this.consume(i, T.Quantity) } }
        case 'options': { const i = n.i++; return () => { this.subrule(i, this.optionList) } }
        case 'choice': {
          const alts = p.alts.map(a => {
            const i = n.i++, tok = kw.get(a.word)!, then = this.compilePieces(a.then, kw, n, kind)
            return { ALT: () => { this.consume(i, tok); then() } }
          })
          const i = n.i++
          return () => { this.or(i, alts) }
        }
        case 'optional': { const i = n.i++, inner = this.compilePieces([p.piece], kw, n, kind); return () => { this.option(i, inner) } }
        case 'repeat': {
          const i = n.i++, inner = this.compilePieces([p.piece], kw, n, kind)
          if (p.commas !== true) return () => { this.atLeastOne(i, inner) }
          const o = n.i++, c = n.i++
          return () => { this.atLeastOne(i, () => { inner(); this.option(o, () => { this.consume(c, T.Comma) }) }) }
        }
        case 'list': {
          // a list's items get their own rule (as `headerOp` was), with its own indices
          const m = { i: 0, sep: 0 }
          const wrapOpt = m.i++, wrapNl = m.i++
          const body = this.compilePieces(p.item, kw, m, kind)
          const item = p.wrap === true ? () => { this.option(wrapOpt, () => { this.consume(wrapNl, T.Newline) }); body() } : body
          const rule = this.RULE(listRule(kind, p.field), item)
          // Chevrotain has no indexed `atLeastOneSep`: its numbered forms (AT_LEAST_ONE_SEP, …SEP1 … SEP9) stand in
          const at = n.i++, sep = n.sep++
          if (sep > 9) throw new Error(`grammar: \`${kind}\` has more than ten lists`)
          const method = (sep === 0 ? 'AT_LEAST_ONE_SEP' : `AT_LEAST_ONE_SEP${sep}`) as 'AT_LEAST_ONE_SEP'
          const def = { SEP: T.Comma, DEF: () => { this.subrule(at, rule) } }
          return () => { this[method](def) }
        }
      }
    })
    return () => { for (const step of steps) step() }
  }

  file = this.RULE('file', () => {
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.includeDecl) },
      { ALT: () => this.SUBRULE(this.upstreamDecl) },
      // the policies' declarations (`jwt NAME { … }`), read from their syntax declarations
      ...this.declRules.map((rule, i) => ({ ALT: () => this.subrule(i + 10, rule) })),
      { ALT: () => this.SUBRULE(this.policyDecl) },
      { ALT: () => this.SUBRULE(this.defaultsDecl) },
      { ALT: () => this.SUBRULE(this.routeDecl) },
    ]))
  })

  /** End of a statement: a newline, a `;`, or (not consumed) the `}` or end of file that follows. */
  end = this.RULE('end', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { GATE: () => { const t = this.LA(1).tokenType; return t === T.RBrace || t === EOF }, ALT: EMPTY_ALT() },
    ])
  })

  includeDecl = this.RULE('includeDecl', () => {
    this.CONSUME(T.Include)
    this.CONSUME(T.AnyString)
    this.SUBRULE(this.end)
  })

  // ── upstream ───────────────────────────────────────────────────────────────────────────────────
  upstreamDecl = this.RULE('upstreamDecl', () => {
    this.CONSUME(T.Upstream)
    this.CONSUME(T.Word)
    this.CONSUME(T.LBrace)
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.upstreamStmt) },
    ]))
    this.CONSUME(T.RBrace)
  })

  /** Statements an upstream (or `defaults`) block holds. */
  upstreamStmt = this.RULE('upstreamStmt', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.replicasStmt) },
      { ALT: () => this.SUBRULE(this.balanceStmt) },
      { ALT: () => this.SUBRULE(this.healthStmt) },
      { ALT: () => this.SUBRULE(this.optionsStmt) },
    ])
    this.SUBRULE(this.end)
  })

  replicasStmt = this.RULE('replicasStmt', () => {
    this.CONSUME(T.Replicas)
    this.AT_LEAST_ONE(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.HostPort) },
        { ALT: () => this.CONSUME(T.AnyString) },
        { ALT: () => this.CONSUME(T.Identifier) },
        { ALT: () => this.CONSUME(T.Quantity) },
      ])
      this.OPTION(() => this.CONSUME(T.Comma))
    })
  })

  balanceStmt = this.RULE('balanceStmt', () => {
    this.CONSUME(T.Balance)
    this.CONSUME(T.Word)
  })

  healthStmt = this.RULE('healthStmt', () => {
    this.CONSUME(T.Health)
    this.OR([
      { ALT: () => this.CONSUME(T.Active) },
      { ALT: () => this.CONSUME(T.Passive) },
    ])
    this.SUBRULE(this.optionList)
  })

  /** `pool …`, `bulkhead …`, `breaker …`: a keyword and an option list. */
  optionsStmt = this.RULE('optionsStmt', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Pool) },
      { ALT: () => this.CONSUME(T.Bulkhead) },
      { ALT: () => this.CONSUME(T.Breaker) },
    ])
    this.SUBRULE(this.optionList)
  })

  /** `name value*` pairs; values are numbers, strings or host:ports (words start the next option). */
  optionList = this.RULE('optionList', () => {
    this.MANY(() => this.SUBRULE(this.optionItem))
  })

  optionItem = this.RULE('optionItem', () => {
    this.CONSUME(T.Word)
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Quantity) },
      { ALT: () => this.CONSUME(T.AnyString) },
      { ALT: () => this.CONSUME(T.HostPort) },
    ]))
    this.OPTION(() => this.CONSUME(T.Comma))
  })

  /** A name that may be bare (`X-User-Id`) or quoted (`"https://example.com/tenant"`). */
  name = this.RULE('name', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Word) },
      { ALT: () => this.CONSUME(T.AnyString) },
    ])
  })

  wordList = this.RULE('wordList', () => {
    this.AT_LEAST_ONE(() => {
      this.CONSUME(T.Identifier)
      this.OPTION(() => this.CONSUME(T.Comma))
    })
  })

  stringList = this.RULE('stringList', () => {
    this.AT_LEAST_ONE(() => {
      this.CONSUME(T.AnyString)
      this.OPTION(() => this.CONSUME(T.Comma))
    })
  })

  // ── policy, defaults, route ────────────────────────────────────────────────────────────────────
  policyDecl = this.RULE('policyDecl', () => {
    this.CONSUME(T.Policy)
    this.CONSUME(T.Word)
    this.SUBRULE(this.routeBody)
  })

  defaultsDecl = this.RULE('defaultsDecl', () => {
    this.CONSUME(T.Defaults)
    this.CONSUME(T.LBrace)
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.routeStmt) },
      { ALT: () => this.SUBRULE(this.upstreamStmt) },
    ]))
    this.CONSUME(T.RBrace)
  })

  routeDecl = this.RULE('routeDecl', () => {
    this.CONSUME(T.Route)
    this.CONSUME(T.Word)
    this.SUBRULE(this.routeBody)
  })

  routeBody = this.RULE('routeBody', () => {
    this.CONSUME(T.LBrace)
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.routeStmt) },
    ]))
    this.CONSUME(T.RBrace)
  })

  /** One line of a route or policy: the match, a pipeline stage, or a route setting. */
  routeStmt = this.RULE('routeStmt', () => {
    this.OR(this.routeStmtAlts) // built in the constructor: see routeStmtAlts
    this.SUBRULE(this.end)
  })

  matchStmt = this.RULE('matchStmt', () => {
    this.CONSUME(T.Match)
    this.AT_LEAST_ONE(() => this.OR([
      { ALT: () => { this.CONSUME(T.Host); this.SUBRULE(this.stringList) } },
      { ALT: () => {
        this.CONSUME(T.Path)
        this.OPTION(() => this.OR1([
          { ALT: () => this.CONSUME(T.Prefix) },
          { ALT: () => this.CONSUME(T.Exact) },
        ]))
        this.CONSUME(T.AnyString)
      } },
      { ALT: () => { this.CONSUME(T.Method); this.SUBRULE(this.wordList) } },
      { ALT: () => {
        this.CONSUME(T.Header)
        this.SUBRULE(this.name)
        this.OPTION1(() => this.CONSUME1(T.AnyString))
      } },
      { ALT: () => {
        this.CONSUME(T.Query)
        this.SUBRULE1(this.name)
        this.OPTION2(() => this.CONSUME2(T.AnyString))
      } },
      { ALT: () => {
        this.CONSUME(T.Cookie)
        this.SUBRULE2(this.name)
        this.OPTION3(() => this.CONSUME3(T.AnyString))
      } },
    ]))
  })

  /** `respond STATUS …`, or `respond redirect STATUS "TARGET"`. */
  respondStmt = this.RULE('respondStmt', () => {
    this.CONSUME(T.Respond)
    this.OR([
      { ALT: () => { this.CONSUME(T.Redirect); this.CONSUME(T.Quantity); this.CONSUME(T.AnyString) } },
      { ALT: () => this.SUBRULE(this.respondTail) },
    ])
  })

  /** `STATUS [json|text|body "…"] [header NAME "value"]…`, shared by `respond` and `proxy … fallback`. */
  respondTail = this.RULE('respondTail', () => {
    this.CONSUME(T.Quantity)
    this.MANY(() => this.OR([
      { ALT: () => {
        this.OR1([
          { ALT: () => this.CONSUME(T.Json) },
          { ALT: () => this.CONSUME(T.Text) },
          { ALT: () => this.CONSUME(T.Body) },
        ])
        this.CONSUME(T.AnyString)
      } },
      { ALT: () => { this.CONSUME(T.Header); this.SUBRULE(this.name); this.CONSUME1(T.AnyString) } },
    ]))
  })

  proxyStmt = this.RULE('proxyStmt', () => {
    this.CONSUME(T.Proxy)
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.proxyTarget) })
    this.OPTION(() => {
      this.CONSUME(T.Fallback)
      this.OPTION1(() => this.CONSUME(T.Respond))
      this.SUBRULE(this.respondTail)
    })
  })

  proxyTarget = this.RULE('proxyTarget', () => {
    this.CONSUME(T.Word)
    this.OPTION(() => this.CONSUME(T.Quantity))
  })
}

export interface ParseOutput {
  cst: CstNode
  lexErrors: { offset: number; line: number; column: number; length: number; message: string }[]
  parseErrors: { message: string; token: IToken; previousToken?: IToken }[]
  comments: IToken[]
  /** The lexed tokens (without comments and skipped white space). */
  tokens: IToken[]
}
