// The .gwp grammar: one Chevrotain CstParser, built once per process and reused for every file.
// Statements end at a newline, a `;` or the block's `}`. Option lists (`pool connections 64 idle 30s`) are
// parsed generically as `name value*` and typed by the AST builder, so a misspelt option gets a
// "did you mean" from the checker instead of a bare syntax error.
import { CstParser, EOF, EMPTY_ALT, type CstNode, type IToken } from 'chevrotain'
import * as T from './tokens.js'
import { errorMessageProvider } from './parse-errors.js'

class GwpParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, errorMessageProvider, maxLookahead: 3, nodeLocationTracking: 'onlyOffset' })
    this.performSelfAnalysis()
  }

  file = this.RULE('file', () => {
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.includeDecl) },
      { ALT: () => this.SUBRULE(this.upstreamDecl) },
      { ALT: () => this.SUBRULE(this.jwtDecl) },
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

  // ── jwt ────────────────────────────────────────────────────────────────────────────────────────
  jwtDecl = this.RULE('jwtDecl', () => {
    this.CONSUME(T.Jwt)
    this.CONSUME(T.Word)
    this.CONSUME(T.LBrace)
    this.MANY(() => this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { ALT: () => this.SUBRULE(this.jwtStmt) },
    ]))
    this.CONSUME(T.RBrace)
  })

  jwtStmt = this.RULE('jwtStmt', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Issuer); this.CONSUME(T.AnyString) } },
      { ALT: () => { this.CONSUME(T.Jwks); this.CONSUME1(T.AnyString); this.SUBRULE(this.optionList) } },
      { ALT: () => { this.CONSUME(T.Algorithms); this.SUBRULE(this.wordList) } },
      { ALT: () => { this.CONSUME(T.Audience); this.SUBRULE(this.stringList) } },
      { ALT: () => { this.CONSUME(T.Leeway); this.CONSUME(T.Quantity) } },
      { ALT: () => { this.CONSUME(T.Cache); this.CONSUME1(T.Quantity) } },
      { ALT: () => this.SUBRULE(this.forwardStmt) },
    ])
    this.SUBRULE(this.end)
  })

  forwardStmt = this.RULE('forwardStmt', () => {
    this.CONSUME(T.Forward)
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.OPTION(() => this.CONSUME(T.Newline))
        this.CONSUME(T.Claim)
        this.SUBRULE(this.name)
        this.CONSUME(T.As)
        this.SUBRULE1(this.name)
      },
    })
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
    this.OR([
      { ALT: () => this.SUBRULE(this.matchStmt) },
      { ALT: () => { this.CONSUME(T.Auth); this.CONSUME(T.Word); this.SUBRULE(this.optionList) } },
      { ALT: () => this.SUBRULE(this.ratelimitStmt) },
      { ALT: () => { this.CONSUME(T.Timeout); this.CONSUME(T.Quantity) } },
      { ALT: () => { this.CONSUME(T.MaxBody); this.CONSUME1(T.Quantity) } },
      { ALT: () => { this.CONSUME(T.Retry); this.CONSUME2(T.Quantity); this.SUBRULE1(this.optionList) } },
      { ALT: () => this.SUBRULE(this.headersStmt) },
      { ALT: () => this.SUBRULE(this.respondStmt) },
      { ALT: () => this.SUBRULE(this.proxyStmt) },
      { ALT: () => { this.CONSUME(T.Use); this.CONSUME1(T.Word) } },
    ])
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
    ]))
  })

  ratelimitStmt = this.RULE('ratelimitStmt', () => {
    this.CONSUME(T.Ratelimit)
    this.CONSUME(T.By)
    this.OR([
      { ALT: () => this.CONSUME(T.User) },
      { ALT: () => this.CONSUME(T.Ip) },
      { ALT: () => { this.CONSUME(T.Header); this.SUBRULE(this.name) } },
      { ALT: () => { this.CONSUME(T.Claim); this.SUBRULE1(this.name) } },
    ])
    this.CONSUME(T.Quantity)
    this.CONSUME(T.Per)
    this.CONSUME1(T.Quantity)
    this.SUBRULE(this.optionList)
  })

  headersStmt = this.RULE('headersStmt', () => {
    this.CONSUME(T.Headers)
    this.OPTION(() => this.OR([
      { ALT: () => this.CONSUME(T.Request) },
      { ALT: () => this.CONSUME(T.Response) },
    ]))
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.headerOp) })
  })

  headerOp = this.RULE('headerOp', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Set); this.SUBRULE(this.name); this.CONSUME(T.AnyString) } },
      { ALT: () => { this.CONSUME(T.Remove); this.AT_LEAST_ONE(() => this.SUBRULE1(this.name)) } },
    ])
  })

  respondStmt = this.RULE('respondStmt', () => {
    this.CONSUME(T.Respond)
    this.SUBRULE(this.respondTail)
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

/** The one parser instance: Chevrotain parsers are expensive to build and cheap to reuse. */
export const parser = new GwpParser()

export interface ParseOutput {
  cst: CstNode
  lexErrors: { offset: number; line: number; column: number; length: number; message: string }[]
  parseErrors: { message: string; token: IToken; previousToken?: IToken }[]
  comments: IToken[]
  /** The lexed tokens (without comments and skipped white space). */
  tokens: IToken[]
}

/** Lex and parse one file's text. Never throws on bad input: errors are returned with positions. */
export function parseText(text: string): ParseOutput {
  const lexed = T.lexer.tokenize(text)
  parser.input = lexed.tokens
  const cst = parser.file()
  return {
    cst,
    lexErrors: lexed.errors.map(e => ({ offset: e.offset, line: e.line ?? 1, column: e.column ?? 1, length: e.length, message: e.message })),
    parseErrors: parser.errors.map(e => ({ message: e.message, token: e.token, previousToken: (e as { previousToken?: IToken }).previousToken })),
    comments: lexed.groups.comments ?? [],
    tokens: lexed.tokens,
  }
}
