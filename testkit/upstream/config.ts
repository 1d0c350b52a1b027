// The stub's config file (YAML or JSON): seed, default rules, and a topology of services × ports, validated into
// StubOptions parts. One file can describe every replica of the benchmark topology.
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { parseRules, type RuleSpec } from './rules.js'

/** One service of a topology: replica i (1-based) is named `${name}-${i}` and listens on ports[i - 1] (0 = any). */
export interface ServiceSpec {
  name: string
  ports: number[]
  host?: string
  /** Rules for this service's replicas, replacing the file's top-level rules. */
  rules?: RuleSpec[]
}

export interface StubConfig {
  seed?: number | string
  host?: string
  rules?: RuleSpec[]
  services?: ServiceSpec[]
}

/**
 * Read and validate a config file. Accepted shapes: `{seed?, host?, rules?, services?}`, a bare list of rules
 * (items with `path`) or a bare list of services (items with `ports`). Throws an Error naming file and field.
 */
export async function loadStubConfig(file: string): Promise<StubConfig> {
  const text = await readFile(file, 'utf8')
  let doc: unknown
  try { doc = parse(text) } catch (e) { throw new Error(`${file}: ${(e as Error).message}`) }
  return parseStubConfig(doc, file)
}

export function parseStubConfig(doc: unknown, where = 'config'): StubConfig {
  if (doc === null || doc === undefined) return {}
  if (Array.isArray(doc)) {
    const isServices = doc.length > 0 && doc.every((x) => x !== null && typeof x === 'object' && 'ports' in x)
    return isServices ? { services: parseServices(doc, where) } : { rules: parseRules(doc, where) }
  }
  if (typeof doc !== 'object') throw new Error(`${where}: expected a mapping or a list`)
  const o = doc as Record<string, unknown>
  const known = new Set(['seed', 'host', 'rules', 'services'])
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`${where}: unknown field ${JSON.stringify(k)}`)
  const out: StubConfig = {}
  if (o.seed !== undefined) {
    if (typeof o.seed !== 'number' && typeof o.seed !== 'string') throw new Error(`${where}.seed: expected a number or string`)
    out.seed = o.seed
  }
  if (o.host !== undefined) out.host = str(o.host, `${where}.host`)
  if (o.rules !== undefined) out.rules = parseRules(o.rules, `${where}.rules`)
  if (o.services !== undefined) out.services = parseServices(o.services, `${where}.services`)
  return out
}

function parseServices(v: unknown, where: string): ServiceSpec[] {
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list of {name, ports}`)
  return v.map((s, i) => {
    const w = `${where}[${i}]`
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new Error(`${w}: expected {name, ports}`)
    const o = s as Record<string, unknown>
    for (const k of Object.keys(o)) if (!['name', 'ports', 'host', 'rules'].includes(k)) throw new Error(`${w}: unknown field ${JSON.stringify(k)}`)
    const name = str(o.name, `${w}.name`)
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`${w}.name: use letters, digits, '_', '.', '-'`)
    if (!Array.isArray(o.ports) || o.ports.length === 0) throw new Error(`${w}.ports: expected a non-empty list of ports`)
    const ports = o.ports.map((p, j) => {
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`${w}.ports[${j}]: expected a port in 0..65535`)
      return p
    })
    const spec: ServiceSpec = { name, ports }
    if (o.host !== undefined) spec.host = str(o.host, `${w}.host`)
    if (o.rules !== undefined) spec.rules = parseRules(o.rules, `${w}.rules`)
    return spec
  })
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${where}: expected a non-empty string`)
  return v
}
