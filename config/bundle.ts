// The bundle contract between gwc (writer) and gw (loader): manifest shape, integrity hash, and the
// dependencies the generated module's `build(deps)` body receives. No I/O here.
import { createHash } from 'node:crypto'
import type { RequestContext } from './context.js'
import { IR_VERSION, type BundleIR, type RetryIR, type RespondIR, type ProxyTargetIR } from './ir.js'
import type { CONTINUE, Stage, StageOptionsBase, TerminalResult, TerminalStage } from './stage.js'

export const BUNDLE_FORMAT = 'gwp-bundle'
/**
 * Bump when the files, the manifest layout or what the module's build(deps) expects change; loaders refuse other
 * values. 2: header edits arrive as head plans (deps.heads), issue 13.
 */
export const BUNDLE_FORMAT_VERSION = 2
export const MANIFEST_FILE = 'manifest.json'
export const MODULE_FILE = 'handlers.js'

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT
  formatVersion: number
  irVersion: number
  compiler: { name: 'gwc'; version: string }
  /** Content hash of the compiler version and every source file: the bundle's version. */
  version: string
  sources: { file: string; sha256: string }[]
  module: { file: string; sha256: string }
  ir: BundleIR
  /** sha256 over the rest of the manifest and the module text: an altered bundle fails this. */
  integrity: string
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** The hash a manifest's `integrity` must equal, computed from the manifest without that field. */
export function bundleIntegrity(manifest: Omit<BundleManifest, 'integrity'>, moduleText: string): string {
  const { integrity: _drop, ...rest } = manifest as BundleManifest
  return sha256(JSON.stringify(rest) + '\n' + moduleText)
}

export class BundleError extends Error {
  readonly code = 'GW_ERR_BUNDLE'
}

/**
 * Parse and verify a bundle's files. Throws BundleError when the bundle was written by an incompatible
 * compiler or its files were altered after build. Never evaluates the module.
 */
export function verifyBundle(manifestText: string, moduleText: string): BundleManifest {
  let m: BundleManifest
  try { m = JSON.parse(manifestText) } catch (e) { throw new BundleError(`manifest is not JSON: ${(e as Error).message}`) }
  if (m === null || typeof m !== 'object' || m.format !== BUNDLE_FORMAT) throw new BundleError('not a gwp bundle manifest')
  if (m.formatVersion !== BUNDLE_FORMAT_VERSION) throw new BundleError(`bundle format ${m.formatVersion} is not supported (this runtime reads format ${BUNDLE_FORMAT_VERSION}); rebuild it with a matching gwc`)
  if (m.irVersion !== IR_VERSION) throw new BundleError(`bundle IR version ${m.irVersion} is not supported (this runtime reads IR ${IR_VERSION}); rebuild it with a matching gwc`)
  if (sha256(moduleText) !== m.module?.sha256) throw new BundleError(`${m.module?.file ?? MODULE_FILE} does not match the manifest: the bundle was altered after build`)
  if (bundleIntegrity(m, moduleText) !== m.integrity) throw new BundleError('manifest integrity check failed: the bundle was altered after build')
  return m
}

// ── what the generated module receives ─────────────────────────────────────────────────────────────
// The module text is the body of `function build(deps)`. It binds every stage once, at load, with its
// constants inlined (`stages.<kind>(options)`), and returns one handler per IR route (same order). A handler
// returns undefined when the terminal stage took over the response (proxying), a reply to write, or a promise
// of either.

/** One route's generated handler. */
export type RouteHandler = (ctx: RequestContext) => TerminalResult | Promise<TerminalResult>

/** Options of `stages.respond` and of a proxy's `fallback respond …` (the terminal stages are core, not policies). */
export type RespondOptions = StageOptionsBase & Omit<RespondIR, 'kind' | 'source' | 'redirect'> & { redirect?: RespondIR['redirect'] }
export type ProxyOptions = StageOptionsBase & {
  targets: ProxyTargetIR[]
  timeoutMs: number
  retry: RetryIR | null
  fallback: Omit<RespondIR, 'kind' | 'source' | 'redirect'> | null
}

/**
 * A stage factory by kind: the policies' (auth, ratelimit, headers: their options types are in
 * policies/<kind>/options.ts) and the core's terminal stages (proxy, respond). Called at load only.
 */
export type StageFactory = (options: never) => Stage | TerminalStage
export type StageFactories = Readonly<Record<string, StageFactory>>

export interface BuildDeps {
  /** The sentinel a stage returns to let the pipeline go on. */
  CONTINUE: typeof CONTINUE
  stages: StageFactories
  /** Head plans of `headers` stages (runtime/head-plan.ts); a module whose routes edit no header does not use it. */
  heads: HeadPlanFactories<unknown>
}

/**
 * A route's `headers` edits in one direction, from its first `headers` stage of that direction up to one of them,
 * as gwc precomputes them (compiler/codegen/head-plan.ts). Names are lower-case tokens, values field values.
 */
export interface HeadPlanOptions {
  /** Every name the edits so far set or remove: no line of these names passes through (any case). */
  drop: string[]
  /**
   * The lines the edits so far add, in edit order, as one latin1 block "name: value\r\n…" (a set a later edit
   * undoes is not in it).
   */
  block: string
  /** This stage's own edits, flat [name, value|null, …] (null = remove), for a context where a dynamic edit came first. */
  edits: (string | null)[]
}

/** `heads.request(o)` / `heads.response(o)`: called once per `headers` stage, at load; the generated code hands the plan to `ctx.requestPlan|responsePlan`. */
export interface HeadPlanFactories<P> {
  request(o: HeadPlanOptions): P
  response(o: HeadPlanOptions): P
}

/** Names the generated module may use besides its own allocated ones (codegen's whitelist). */
export const BUILD_DEPS_NAMES = ['deps', 'CONTINUE', 'stages', 'heads', 'ctx'] as const
