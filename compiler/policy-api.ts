// The compiler's plug-in API: everything a policy's compile half (policies/<kind>/compile.ts) may use from the
// compiler, and the descriptor type it exports. A policy imports this file, config/ (the kernel) and its own
// folder, nothing else of the core (test/layout.test.ts); compiler/policies.ts lists the descriptors.
import type * as A from '../grammar/ast.js'
import type { BundleIR, DeclarationIR, StageIR } from '../config/ir.js'
import type { CheckContext } from './check/context.js'
import type { Json } from './codegen/js.js'
import type { Change } from './tools/diff-values.js'
import type { YamlEntry, YamlNode, YamlReader } from '../grammar/yaml/nodes.js'
import type { DeclarationSyntax, Fields, StatementSyntax } from '../grammar/syntax.js'

export type { A, CheckContext, Json, Change, StageIR, DeclarationIR, YamlEntry, YamlNode, YamlReader, Fields, StatementSyntax, DeclarationSyntax }
export type { Diagnostics } from '../grammar/diagnostic.js'
export { closest } from '../grammar/suggest.js'
export { formatQty, optFlag, optNum, optStr, readOptions, readQty, type OptSpec, type QtyKind } from './values.js'
export { givenTwice, headerName, headerValue, unknownName, writableHeader } from './check/context.js'
export { inString, spanOf } from './check/spans.js'
export { dur, fields, pct, plain, setChange, valueChange } from './tools/diff-values.js'
export { printName, printOptions, printValue, quote, words } from './tools/print-values.js'
export { isWord, yamlName } from '../grammar/yaml/nodes.js'
export { choice, identifier, keyword, list, name, optional, options, quantity, repeat, string, word, type Choice, type LexHint } from '../grammar/syntax.js'

/**
 * How a stage reaches the generated module (`edits` below). `options`: bound once at load as `stages.<kind>(options)` (the
 * options are JSON, inlined as a literal) and called per request. `inline`: straight-line calls on the request
 * context, for stages too small to be worth a call (header edits); `method` must be one of the context methods
 * generated code may call (config/bundle.ts RouteContextApi), the arguments become literals.
 */
export type Emission =
  | { options: Json }
  | { inline: { method: 'setRequestHeader' | 'removeRequestHeader' | 'setResponseHeader' | 'removeResponseHeader'; args: Json[] }[] }
  | { edits: HeaderEdits }

/**
 * `edits`: constant header edits (`headers`), compiled into the route's head plan for that direction
 * (compiler/codegen/head-plan.ts): the per-request work is one assignment on the context. Names lower-case;
 * value null = remove.
 */
export interface HeaderEdits { target: 'request' | 'response'; ops: { name: string; value: string | null }[] }

/** A fact a statement needs an earlier stage of the pipeline to have established (E0403 when none did). */
export interface Need {
  /** The fact, as some kind's `provides` names it (`identity`). */
  fact: string
  /** What needs it, as the message names it: `ratelimit by user`. */
  what: string
  span: A.Span
  /** What is missing at the caret: `no verified identity yet`. */
  label: string
  /** The hint when no stage of the pipeline establishes it at all. */
  hintWhenMissing: string
}

/** What a W0701 lint compares: a stage's cost class and what a request has paid for once it ran. */
export interface Cost {
  /** 0 free, 1 a local decision, 2 I/O or crypto (a JWT verification, a Redis round trip). */
  level: number
  /** Words for what a request has paid for after this stage: `a JWT verification`. */
  paid: string
}

/**
 * What a `gwc explain` step knows of the request: the bundle, its headers (lower-case names), its query string,
 * and the path and query it would be sent upstream with so far (normalised; changed by an earlier stage's
 * `upstreamPath`).
 */
export interface ExplainEnv {
  bundle: BundleIR
  headers: Record<string, string>
  /** The request's query string: `?…` or ''. */
  query?: string
  upstreamPath: string
}
/** A `gwc explain` step: its text, a note for this request, and the upstream path after it when the stage changes it. */
export interface ExplainStep { text: string; note: string | null; upstreamPath?: string }

/** A route's pipeline as lints see it. */
export interface PipelineView {
  stages: readonly StageIR[]
  /** Whether some stage of the pipeline provides `fact`. */
  provides(fact: string): boolean
}

/** What a route's YAML mapping needs from the rest of the YAML file. */
export interface YamlScope {
  /** The names of the policies' declarations in this file, by declaration keyword (`jwt` → `[idp]`). */
  declared: ReadonlyMap<string, string[]>
}

/**
 * A top-level declaration a policy adds to the language (`jwt NAME { … }`): its syntax (grammar/syntax.ts),
 * its check into the bundle IR's `declarations`, and how the tools print, diff and read (YAML) it. Names of all
 * policies' declarations are one namespace (E0101 across them); a stage refers to one by name.
 */
export interface PolicyDeclaration<D extends DeclarationIR = any> {
  readonly syntax: DeclarationSyntax
  /** AST → IR, reporting into ctx.d. The IR is carried whole in the bundle (the runtime half reads it by name). */
  check(ctx: CheckContext, d: A.Declaration): D
  /**
   * Lower-case request headers the gateway sets from what this declaration verifies (`forward … as`): identity
   * headers, stripped from every client request on every route (the trust boundary).
   */
  identityHeaders?(ir: D): string[]
  /** One statement of its body as canonical .gwp, one line without indent (`gwc fmt`, `gwc convert`). */
  print(s: { kind: string; span: A.Span }): string
  /** `gwc diff`: one line for one added or removed, and the fields that differ between two of one name. */
  readonly diff: { summary(ir: D): string; changes(o: D, n: D): Change[] }
  /** YAML: the top-level key holding these declarations (`jwt:`), and how to read it. */
  readonly yaml?: { key: string; read(r: YamlReader, e: YamlEntry): A.Declaration[] }
}

/** A `gwc` subcommand a policy adds (`gwc keys add FILE CONSUMER`). */
export interface PolicyCommand {
  /** The word after `gwc`: not a core command. */
  name: string
  /** Its lines in `gwc help` (the first starts `  gwc NAME`, continuation lines are indented further). */
  usage: string[]
  /** Runs it with the arguments after the name: what to print on stdout and stderr, and the exit code (2 bad usage). */
  run(args: string[]): { code: number; out: string; err: string }
}

/** The request credentials a stage consumes: removed from the request before it goes upstream (names lower-case for headers). */
export interface Consumed { headers: string[]; query: string[] }

/**
 * A policy kind's compile half: one object per kind, listed in compiler/policies.ts. `kind` is the statement's
 * leading keyword, the AST and IR `kind`, the `stages.<kind>` factory of the generated module and the key of the
 * runtime half (policies/<kind>/runtime.ts). `S` is the kind's AST statement, `I` its IR stage.
 */
export interface CompilePolicy<S extends { kind: string; span: A.Span } = any, I extends StageIR = any> {
  readonly kind: string
  /** How the statement reads (grammar/syntax.ts): its keyword is `kind`; the parser is built from these. */
  readonly syntax: StatementSyntax
  /** AST → IR, reporting into ctx.d; undefined when the statement has errors. `scope` is the route (or the policy checked on its own). */
  check(ctx: CheckContext, s: S, scope: string): I | undefined
  /** `gwc` subcommands this kind adds (`auth`: `gwc keys add`). */
  readonly commands?: readonly PolicyCommand[]
  /** Top-level declarations this kind adds to the language (`auth`: `jwt NAME { … }` and `keys NAME { … }`). */
  readonly declarations?: readonly PolicyDeclaration[]
  /** Facts a stage of this kind may establish for the stages after it (`auth`: `identity`, `consumer`). */
  readonly provides?: readonly string[]
  /**
   * The facts one checked stage establishes, when that depends on the stage (`auth keys` a `consumer`, `auth idp`
   * an `identity`, `auth idp or keys` neither for certain). Absent: all of `provides`. A statement with errors
   * counts as establishing all of `provides` (its error is reported; the stages after it are not blamed).
   */
  establishes?(ir: I): readonly string[]
  /**
   * The request credentials a stage consumes (`auth`: Authorization, an API key's header or query parameter):
   * the route's proxy removes them before the request goes upstream. Absent: none.
   */
  consumes?(ir: I): Consumed
  /** A fact this statement needs an earlier stage to establish (`ratelimit by user` needs `identity`). */
  needs?(ctx: CheckContext, s: S): Need | undefined
  /** Two stages of one route that would act as one (the same limiter twice): E0102 with these words. */
  readonly twin?: { key(ir: I): string; message: string; label: string; hint: string }
  /** For W0701: the stage's cost, and, when it is a cheap reject that could run earlier, how to name it. */
  cost?(ir: I): Cost
  cheapReject?(ctx: CheckContext, ir: I): string | undefined
  /**
   * Route lints of this kind (W07xx), once the whole pipeline is known; also where a kind refuses a place in the
   * pipeline that only the whole of it shows (an error: `cors` after a stage that could refuse a preflight).
   */
  lint?(ctx: CheckContext, ir: I, s: S, pipeline: PipelineView): void
  /**
   * Methods a route with this stage also answers, whatever its `match` lists (`cors`: OPTIONS, for preflights).
   * The checker adds them to the route's match when it lists methods, so the router, `gwc routes`, `gwc explain`
   * and the conflict analysis all see them; the stage must then handle requests of these methods itself or let
   * them go on like the route's others.
   */
  methods?(ir: I): readonly string[]
  /** IR → generated code (see Emission). The module's text must not depend on anything else. */
  emit(ir: I, route: string): Emission
  /** One line for `gwc routes` (`ratelimit ip 100/1s`). */
  describe(ir: I): string
  /** Whether the stage can make a request wait (I/O) rather than decide at once. */
  canWait(ir: I): boolean
  /** `gwc diff`: what makes two stages "the same stage", its text, and the fields that differ. */
  readonly diff: { key(ir: I): string; text?(ir: I): string; changes(o: I, n: I): Change[] }
  /** `gwc explain`: the stage's step for one request. */
  explain(ir: I, env: ExplainEnv): ExplainStep
  /** The statement as canonical .gwp text, one line without indent (`gwc fmt`, `gwc convert`). */
  print(s: S): string
  /** The YAML front end's mapping: a key of a route and the statements it reads from it. */
  readonly yaml?: {
    key: string
    read(r: YamlReader, e: YamlEntry, scope: YamlScope): S[]
    /**
     * Where each statement goes in the pipeline: YAML maps have no order, so stages are placed cheapest reject
     * first by rank (stable within a rank).
     */
    rank(s: S): number
  }
}
