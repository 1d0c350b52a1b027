// The .gwp abstract syntax tree: what the author wrote, with a source span on every piece, before any
// checking. The YAML front end builds the same tree (spans then point into the YAML file).

/** A source range on one line: where a caret goes. Lines and columns are 1-based. */
export interface Span {
  file: string
  line: number
  col: number
  /** Length in characters (at least 1). */
  len: number
  /** Offset of the first character in the file text. */
  offset: number
}

export interface WordV { kind: 'word'; value: string; span: Span }
export interface StrV { kind: 'str'; value: string; span: Span; unterminated?: boolean }
/** A number with its unit as written: `800ms` → num 800, unit 'ms'. */
export interface QtyV { kind: 'qty'; raw: string; num: number; unit: string; span: Span }
export interface AddrV { kind: 'addr'; raw: string; span: Span }
export type Value = WordV | StrV | QtyV | AddrV

/** `name value*` in an option list, e.g. `connections 128` or the flag `idempotent_only`. */
export interface OptionAst { name: WordV; values: Value[]; span: Span }

/** A header or claim name, bare (`X-User-Id`) or quoted. */
export type NameV = WordV | StrV

export interface CommentAst { text: string; span: Span }

// ── declarations ────────────────────────────────────────────────────────────────────────────────

interface DeclBase { span: Span; /** The last line of the declaration (its closing brace). */ endLine: number }

export interface IncludeDecl extends DeclBase { kind: 'include'; path: StrV }

export interface UpstreamDecl extends DeclBase { kind: 'upstream'; name: WordV; body: UpstreamStmt[] }

/**
 * A policy's declaration kind (the block's keyword, `jwt`): a string at run time, typed apart from the core's
 * declaration kinds so that a check of `d.kind` against one of them narrows the union. Read it with `kindOf`.
 */
export type DeclKind = { readonly __declKind: true }

/**
 * A top-level declaration a policy adds (`jwt idp { … }`, grammar/syntax.ts DeclarationSyntax): its body holds
 * what its statements' syntaxes built, typed in the policy's folder.
 */
export interface Declaration extends DeclBase { kind: DeclKind; name: WordV; body: { kind: string; span: Span }[] }

export interface PolicyDecl extends DeclBase { kind: 'policy'; name: WordV; body: RouteStmt[] }

export interface DefaultsDecl extends DeclBase { kind: 'defaults'; body: (RouteStmt | UpstreamStmt)[] }

export interface RouteDecl extends DeclBase { kind: 'route'; name: WordV; body: RouteStmt[] }

export type Decl = IncludeDecl | UpstreamDecl | Declaration | PolicyDecl | DefaultsDecl | RouteDecl

export interface FileAst {
  file: string
  decls: Decl[]
  comments: CommentAst[]
}

// ── statements (each `span` covers its leading keyword) ───────────────────────────────────────────

interface StmtBase { span: Span }

export interface ReplicasStmt extends StmtBase { kind: 'replicas'; addrs: Value[] }
export interface BalanceStmt extends StmtBase { kind: 'balance'; value: WordV }
export interface HealthStmt extends StmtBase { kind: 'health'; mode: 'active' | 'passive'; options: OptionAst[] }
export interface OptionsStmt extends StmtBase { kind: 'pool' | 'bulkhead' | 'breaker'; options: OptionAst[] }
export type UpstreamStmt = ReplicasStmt | BalanceStmt | HealthStmt | OptionsStmt

export interface MatchStmt extends StmtBase {
  kind: 'match'
  hosts: StrV[]
  hostSpan: Span | null
  path: { mode: 'exact' | 'prefix' | null; value: StrV; span: Span } | null
  methods: WordV[]
  methodSpan: Span | null
  header: { name: NameV; value: StrV | null; span: Span } | null
  /** `query NAME ["value"]`: a query parameter present, or with that (decoded) value. */
  query?: { name: NameV; value: StrV | null; span: Span } | null
  /** `cookie NAME ["value"]`: a cookie present, or with that value. */
  cookie?: { name: NameV; value: StrV | null; span: Span } | null
  /** Conditions written twice (`path … path …`), reported by the checker: which, where, and the first one. */
  repeated: { what: 'host' | 'path' | 'method' | 'header' | 'query' | 'cookie'; span: Span; first: Span }[]
}

export interface TimeoutStmt extends StmtBase { kind: 'timeout'; value: QtyV }
export interface MaxBodyStmt extends StmtBase { kind: 'max_body'; value: QtyV }
export interface RetryStmt extends StmtBase { kind: 'retry'; count: QtyV; options: OptionAst[] }
/**
 * `upgrade websocket [max_open N] [idle D] [lifetime D]`: the route may turn requests asking for one of these
 * protocols (`Upgrade:`) into tunnels. `protocols` as written (at least one); `options` the limits.
 */
export interface UpgradeStmt extends StmtBase { kind: 'upgrade'; protocols: WordV[]; options: OptionAst[] }
/** The option names of `upgrade` (any other valueless word after it is a protocol). */
export const UPGRADE_OPTIONS: readonly string[] = ['max_open', 'idle', 'lifetime']
export interface RespondBody { as: 'json' | 'text' | 'body'; value: StrV; span: Span }
export interface RespondStmt extends StmtBase {
  kind: 'respond'
  status: QtyV
  body: RespondBody | null
  headers: { name: NameV; value: StrV; span: Span }[]
  /** Extra bodies written (only one is allowed), reported by the checker. */
  extraBodies: Span[]
  /** `respond redirect STATUS "TARGET"`: the target (then there is no body and no header). */
  redirect: { target: StrV; span: Span } | null
}
export interface ProxyStmt extends StmtBase {
  kind: 'proxy'
  targets: { upstream: WordV; weight: QtyV | null }[]
  fallback: RespondStmt | null
}
export interface UseStmt extends StmtBase { kind: 'use'; policy: WordV }

/**
 * A policy kind's name (compiler/policies.ts): a string at run time, typed apart from the core's statement kinds
 * (`match`, `proxy`, …) so that a check of `s.kind` against one of them narrows the union (a policy statement is
 * whatever is not one of them). Read it as a string with `kindOf`.
 */
export type PolicyKind = { readonly __policyKind: true }

/**
 * A policy stage (`auth`, `ratelimit`, `headers`, …), read from its kind's syntax declaration (grammar/syntax.ts);
 * its own fields are typed in its folder (policies/<kind>/).
 */
export interface PolicyStmt extends StmtBase { kind: PolicyKind }

/** The kind of any statement, as the string it is. */
export const kindOf = (s: { kind: unknown }): string => s.kind as string

export type RouteStmt = MatchStmt | TimeoutStmt | MaxBodyStmt | RetryStmt | UpgradeStmt | RespondStmt | ProxyStmt | UseStmt | PolicyStmt
