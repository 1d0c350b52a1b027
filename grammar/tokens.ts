// The .gwp lexicon: Chevrotain token types and the one lexer built from them.
// Keywords are contextual: every keyword is also a `Word`, so a declaration may be named `health` or `cache`.
import type { TokenType } from 'chevrotain'
import { createToken, Lexer } from './chevrotain.js'

/** Any bare word: identifiers and keywords alike (a token category, never produced on its own). */
export const Word = createToken({ name: 'Word', pattern: Lexer.NA, label: 'a name' })
/** A double-quoted string, or one the line ended inside of (reported by the AST builder). */
export const AnyString = createToken({ name: 'AnyString', pattern: Lexer.NA, label: 'a string' })

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\f\uFEFF]+/, group: Lexer.SKIPPED })
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: 'comments' })
export const Newline = createToken({ name: 'Newline', pattern: /\n/, line_breaks: true, label: 'end of line' })
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: '`{`' })
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: '`}`' })
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: '`,`' })
export const Semi = createToken({ name: 'Semi', pattern: /;/, label: '`;`' })
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, categories: [AnyString], label: 'a string' })
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\.)*/, categories: [AnyString], label: 'a string' })
/**
 * `host:port` (`10.0.1.10:8080`, `svc.local:80`, `[::1]:8080`) or a bare dotted quad. Validated by the
 * checker, so `300.1.1.1:80` or `api:99999` get a precise message instead of a lexer error.
 */
export const HostPort = createToken({
  name: 'HostPort',
  pattern: /(?:\[[0-9A-Fa-f:.]*\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*):[0-9]*|\d+\.\d+\.\d+\.\d+/,
  label: 'a host:port',
})
/** A number with an optional unit: `800ms`, `10%`, `10MB`, `100`, `1.5s`. The unit is typed by the checker. */
export const Quantity = createToken({ name: 'Quantity', pattern: /\d+(?:\.\d+)?(?:[A-Za-z%]+)?/, label: 'a number' })
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/, categories: [Word], label: 'a name' })

const keywords: TokenType[] = []
/** Keyword tokens by word: the core's own and those created for the policies' syntax declarations. */
const byWord = new Map<string, TokenType>()
const createKeyword = (word: string): TokenType => {
  const t = createToken({
    name: word.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase()),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Word],
    label: '`' + word + '`',
  })
  byWord.set(word, t)
  return t
}
const kw = (word: string): TokenType => {
  const t = createKeyword(word)
  keywords.push(t)
  return t
}

// top level
export const Include = kw('include')
export const Upstream = kw('upstream')
export const Policy = kw('policy')
export const Defaults = kw('defaults')
export const Route = kw('route')
// upstream
export const Replicas = kw('replicas')
export const Balance = kw('balance')
export const Health = kw('health')
export const Active = kw('active')
export const Passive = kw('passive')
export const Path = kw('path')
export const Every = kw('every')
export const Timeout = kw('timeout')
export const UnhealthyAfter = kw('unhealthy_after')
export const HealthyAfter = kw('healthy_after')
export const EjectAfter = kw('eject_after')
export const Errors = kw('errors')
export const For = kw('for')
export const Pool = kw('pool')
export const Connections = kw('connections')
export const Idle = kw('idle')
export const ConnectTimeout = kw('connect_timeout')
export const SendTimeout = kw('send_timeout')
export const Bulkhead = kw('bulkhead')
export const MaxInFlight = kw('max_in_flight')
export const Breaker = kw('breaker')
export const ErrorRatio = kw('error_ratio')
export const MinRequests = kw('min_requests')
export const Window = kw('window')
export const OpenFor = kw('open_for')
export const HalfOpen = kw('half_open')
// route
export const Match = kw('match')
export const Host = kw('host')
export const Prefix = kw('prefix')
export const Exact = kw('exact')
export const Method = kw('method')
export const Header = kw('header')
export const Query = kw('query')
export const Cookie = kw('cookie')
export const MaxBody = kw('max_body')
export const Upgrade = kw('upgrade')
export const Use = kw('use')
export const Burst = kw('burst')
export const Local = kw('local')
export const Redis = kw('redis')
export const Fail = kw('fail')
export const Open = kw('open')
export const Closed = kw('closed')
export const Retry = kw('retry')
export const IdempotentOnly = kw('idempotent_only')
export const IdempotencyKey = kw('idempotency_key')
export const AllMethods = kw('all_methods')
export const Budget = kw('budget')
export const Unlimited = kw('unlimited')
export const PerTry = kw('per_try')
export const Backoff = kw('backoff')
export const Respond = kw('respond')
export const Body = kw('body')
export const Json = kw('json')
export const Text = kw('text')
export const Proxy = kw('proxy')
export const Fallback = kw('fallback')
export const Redirect = kw('redirect')

/** The core's own keywords (declarations, upstream, match, settings, terminals); policies bring theirs. */
export const KEYWORDS: readonly TokenType[] = keywords

/**
 * The keyword token for `word`: the core's own when it has one (`header`, `claim`), else one made for a policy's
 * syntax declaration (`ratelimit`, `per`), once per process.
 */
export function keywordToken(word: string): TokenType {
  if (!/^[a-z][a-z0-9_]*$/.test(word)) throw new Error(`grammar: ${JSON.stringify(word)} cannot be a keyword`)
  return byWord.get(word) ?? createKeyword(word)
}

/**
 * The lexicon with `extra` keywords. Order matters: the first pattern that matches wins, so longer and more
 * specific shapes come first.
 */
export function tokensWith(extra: readonly TokenType[]): TokenType[] {
  const kws = [...new Set([...keywords, ...extra])]
  return [
    WhiteSpace, Comment, Newline, LBrace, RBrace, Comma, Semi,
    StringLit, UnterminatedString, HostPort, Quantity,
    // Longest keyword first so `per_try` is not read as `per` + `_try`.
    ...kws.sort((a, b) => String(b.PATTERN).length - String(a.PATTERN).length), Identifier,
    Word, AnyString,
  ]
}

// Only `\n` ends a line: a CRLF file must not count its `\r` as a second line break (the `\r` is white space).
export const createLexer = (tokens: TokenType[]): Lexer =>
  new Lexer(tokens, { positionTracking: 'full', ensureOptimizations: false, lineTerminatorsPattern: /\n/g, lineTerminatorCharacters: ['\n'] })

/** The core lexicon alone (what is a bare word, for the YAML front end); the parser builds its own with the policies' keywords. */
export const lexer = createLexer(tokensWith([]))
