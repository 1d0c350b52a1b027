// The compiler's front door: entry paths in, diagnostics and (when clean) the checked IR out.
import { Diagnostics, type Diagnostic } from '../grammar/index.js'
import type { BundleIR } from '../config/ir.js'
import { checkProgram } from './check/program.js'
import type { CheckedRoute } from './check/route.js'
import { REGISTRY, type PolicyRegistry } from './policies.js'
import { loadSources, nodeHost, type FrontEnd, type LoadedSource, type SourceHost } from './sources.js'

export interface CompileOptions {
  host?: SourceHost
  frontEnds?: Record<string, FrontEnd>
  /** The policy kinds to compile (compiler/policies.ts REGISTRY by default). */
  policies?: PolicyRegistry
}

export interface CompileResult {
  diagnostics: Diagnostic[]
  errors: number
  warnings: number
  ir: BundleIR | undefined
  sources: LoadedSource[]
  routes: CheckedRoute[]
}

/** Parse and check a policy set. Never throws on bad input; `ir` is set only when there are no errors. */
export function compile(entries: string[], opts: CompileOptions = {}): CompileResult {
  const d = new Diagnostics()
  const policies = opts.policies ?? REGISTRY
  const sources = loadSources(entries, opts.host ?? nodeHost(), d, opts.frontEnds ?? {}, (t, f, dd) => policies.grammar.parseFile(t, f, dd).ast)
  const { ir, routes } = checkProgram(sources.map(s => s.ast), d, policies)
  const diagnostics = d.sorted()
  const errors = diagnostics.filter(x => x.severity === 'error').length
  return { diagnostics, errors, warnings: diagnostics.length - errors, ir: errors === 0 ? ir : undefined, sources, routes }
}
