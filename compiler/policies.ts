// The compiler's policy registry: the compile half of every policy kind, one import line per kind. It is the only
// compiler module that imports policies/; route checks, codegen, `gwc routes|diff|explain|fmt|convert` and the
// YAML front end's stage mappings all ask it, so adding a kind is its folder plus one line here (and one in
// runtime/policies.ts). A kind nobody registered is an error wherever it shows up, never skipped.
import { policy as auth } from '../policies/auth/compile.js'
import { policy as cors } from '../policies/cors/compile.js'
import { policy as headers } from '../policies/headers/compile.js'
import { policy as ratelimit } from '../policies/ratelimit/compile.js'
import { policy as ip } from '../policies/ip/compile.js'
import { policy as redirect } from '../policies/redirect/compile.js'
import { policy as rewrite } from '../policies/rewrite/compile.js'
import { Grammar } from '../grammar/index.js'
import { declarationKeywordsOf, keywordsOf } from '../grammar/syntax.js'
import type { YamlDeclarationMapping, YamlStageMapping } from '../grammar/yaml/routes.js'
import type { StageIR } from '../config/ir.js'
import type { CompilePolicy, PolicyCommand, PolicyDeclaration } from './policy-api.js'

/** Every policy kind this gwc compiles. */
export const POLICIES: readonly CompilePolicy[] = [auth, ratelimit, headers, cors, ip, rewrite, redirect]

/** Statement words the core reads itself: a policy kind may not take one. */
const BESPOKE = new Set(['match', 'use', 'proxy', 'respond', 'timeout', 'max_body', 'retry', 'include', 'upstream', 'policy', 'defaults', 'route'])
/** A kind is `stages.<kind>` in the generated module and a prefix of its allocated names. */
const KIND = /^[a-z][a-z0-9_]*$/

/** The descriptors by kind, checked once when built; tests build their own (with a fake kind, or one left out). */
export class PolicyRegistry {
  private readonly byKind = new Map<string, CompilePolicy>()
  private readonly byDeclaration = new Map<string, PolicyDeclaration>()

  constructor(readonly list: readonly CompilePolicy[]) {
    for (const p of list) {
      if (!KIND.test(p.kind) || BESPOKE.has(p.kind)) throw new Error(`policy registry: bad kind ${JSON.stringify(p.kind)}`)
      if (p.syntax.keyword !== p.kind) throw new Error(`policy registry: the statement of ${p.kind} starts with \`${p.syntax.keyword}\``)
      if (this.byKind.has(p.kind)) throw new Error(`policy registry: kind ${p.kind} is registered twice`)
      this.byKind.set(p.kind, p)
    }
    // a declaration's keyword starts a top-level block: it may be no core word, no stage kind and no other declaration's
    for (const d of list.flatMap(p => p.declarations ?? [])) {
      const k = d.syntax.keyword
      if (!KIND.test(k) || BESPOKE.has(k) || this.byKind.has(k) || this.byDeclaration.has(k)) throw new Error(`policy registry: bad declaration keyword ${JSON.stringify(k)}`)
      this.byDeclaration.set(k, d)
    }
  }

  /** The declaration whose keyword is `keyword` (`jwt`). Throws (a compiler bug: the parser reads only registered ones) when none. */
  declaration(keyword: string): PolicyDeclaration {
    const d = this.byDeclaration.get(keyword)
    if (d === undefined) throw new Error(`gwc: no policy declares \`${keyword}\` (compiler/policies.ts)`)
    return d
  }

  /** The `gwc` subcommand a policy adds under `name`, if any. */
  command(name: string): PolicyCommand | undefined { return this.list.flatMap(p => p.commands ?? []).find(c => c.name === name) }

  /** Every policy's `gwc` subcommands, in registry order. */
  get commands(): PolicyCommand[] { return this.list.flatMap(p => p.commands ?? []) }

  /** Every policy's declarations, in registry order. */
  get declarations(): PolicyDeclaration[] { return [...this.byDeclaration.values()] }

  /** The facts a checked stage establishes (CompilePolicy.establishes, else its kind's `provides`). */
  establishes(ir: StageIR): readonly string[] {
    const p = this.of(ir.kind)
    return (p.establishes !== undefined ? p.establishes(ir) : p.provides) ?? []
  }

  /** The descriptor of `kind`, or undefined when no policy of that kind is registered. */
  get(kind: string): CompilePolicy | undefined { return this.byKind.get(kind) }

  /** The descriptor of `kind`. Throws (a compiler bug: the checker reports unknown kinds) when there is none. */
  of(kind: string): CompilePolicy {
    const p = this.byKind.get(kind)
    if (p === undefined) throw new Error(`gwc: no policy of kind \`${kind}\` is registered (compiler/policies.ts)`)
    return p
  }

  /** The kinds whose stages establish `fact`, in registry order. */
  providers(fact: string): string[] { return this.list.filter(p => p.provides?.includes(fact)).map(p => p.kind) }

  private built: Grammar | undefined
  /** The .gwp grammar with these kinds' statements, built on first use (Chevrotain's analysis takes a while). */
  get grammar(): Grammar { return (this.built ??= new Grammar(this.list.map(p => p.syntax), this.declarations.map(d => d.syntax))) }

  /** Every keyword the policies' statements and declarations use. */
  get keywords(): ReadonlySet<string> {
    return new Set([...this.list.flatMap(p => keywordsOf(p.syntax)), ...this.declarations.flatMap(d => declarationKeywordsOf(d.syntax))])
  }

  /** The YAML front end's stage mappings, in registry order. */
  yamlStages(): YamlStageMapping[] {
    return this.list.flatMap(p => (p.yaml === undefined ? [] : [p.yaml as YamlStageMapping]))
  }

  /** The YAML front end's top-level declaration mappings (`jwt:`), in registry order. */
  yamlDeclarations(): YamlDeclarationMapping[] {
    return this.declarations.flatMap(d => (d.yaml === undefined ? [] : [{ keyword: d.syntax.keyword, ...d.yaml }]))
  }
}

/** The registry of this gwc. */
export const REGISTRY = new PolicyRegistry(POLICIES)
