// A route's `headers` statements as precomputed pieces (issue 13 item 2): per direction and per `headers` stage,
// the names the route's edits so far remove or replace (lower-case) and the lines they add as one latin1 block
// ("name: value\r\n…"). gwc emits the pieces (compiler/codegen/head-plan.ts); `heads.request|response(…)` turns
// them into a HeadPlan once, at load; a request only points its context at the plan (ctx.requestPlan), and
// runtime/headers.ts copies the kept lines, fills the dynamic ones and appends the block.
import { FIELD_VALUE, GATEWAY_OWNED, HOP_BY_HOP, TOKEN } from '../config/http.js'
import type { HeadPlanFactories, HeadPlanOptions } from '../config/bundle.js'

/** Lower-case names, looked up without lower-casing a name whose length no member has (most names). */
export class NameSet {
  private readonly lengths = new Uint8Array(257)
  readonly names: ReadonlySet<string>
  constructor(names: Iterable<string>) {
    this.names = new Set(names)
    for (const n of this.names) this.lengths[Math.min(n.length, 256)] = 1
  }
  /** Whether `name` (any case) is a member. HOT PATH: a lower-cased copy only for a name of a member's length. */
  has(name: string): boolean {
    if (this.lengths[Math.min(name.length, 256)] === 0) return false
    return this.names.has(name.toLowerCase())
  }
  /** Whether a lower-case `lower` is a member (the caller lower-cased it already). */
  hasLower(lower: string): boolean { return this.lengths[Math.min(lower.length, 256)] === 1 && this.names.has(lower) }
}

/**
 * The static edits of a route's `headers` stages in one direction, from the first up to one of them. Every
 * member is built at load; nothing here changes per request.
 */
export class HeadPlan {
  /** Names the edits so far remove or replace (lower-case): no line of such a name passes through. */
  readonly drop: NameSet
  /** The names a response loses: the hop-by-hop ones and `drop` (both always go on a response). */
  readonly responseDrop: NameSet
  /** The lines the edits so far add, in edit order: "name: value\r\n…" (names lower-case). */
  readonly block: string
  /** The same lines as flat [name, value, …] pairs (node:http and undici take pairs). */
  readonly pairs: readonly string[]
  /** `block` after the gateway's `via: 1.1 gwp` (a response when via is on), unless the route drops Via. */
  readonly blockVia: string
  /** `pairs` after the gateway's Via pair, likewise. */
  readonly pairsVia: readonly string[]
  /** This stage's own edits, flat [name, value|null] (null = remove): applied as edits after a dynamic one. */
  readonly edits: readonly (string | null)[]
  /** Gateway lines the route's edits replace or remove (checked once here, not per request). */
  readonly dropsVia: boolean
  readonly dropsXff: boolean
  readonly dropsXfp: boolean
  readonly dropsXfh: boolean
  /** The block's Host line (`headers request set host …`), '' when it has none. */
  readonly blockHost: string
  /** The block without its Host line (the string form writes Host first, as undici does). */
  readonly blockNoHost: string
  /** The block carries a Date line (`headers response set date …`): the writer adds none then. */
  readonly blockDate: boolean

  constructor(o: HeadPlanOptions) {
    const names = o.drop.map(n => checkName(n))
    this.drop = new NameSet(names)
    this.responseDrop = new NameSet([...HOP_BY_HOP, ...names])
    // the block is read back into pairs (node:http and undici take pairs) and checked line by line
    const block = typeof o.block === 'string' ? o.block : ''
    if (block !== '' && !block.endsWith('\r\n')) throw new Error(`head plan: block ${JSON.stringify(block)} does not end a line`)
    const pairs: string[] = []
    const lines = block === '' ? [] : block.slice(0, -2).split('\r\n')
    for (const line of lines) {
      const at = line.indexOf(': '); if (at < 0) throw new Error(`head plan: block line ${JSON.stringify(line)} has no ": "`)
      const name = checkName(line.slice(0, at)), value = checkValue(line.slice(at + 2))
      if (!this.drop.hasLower(name)) throw new Error(`head plan: added header ${JSON.stringify(name)} is not among the dropped names`)
      pairs.push(name, value)
    }
    this.pairs = pairs
    this.block = block
    this.dropsVia = this.drop.hasLower('via')
    this.dropsXff = this.drop.hasLower('x-forwarded-for')
    this.dropsXfp = this.drop.hasLower('x-forwarded-proto')
    this.dropsXfh = this.drop.hasLower('x-forwarded-host')
    this.blockVia = this.dropsVia ? block : 'via: 1.1 gwp\r\n' + block
    this.pairsVia = this.dropsVia ? pairs : ['via', '1.1 gwp', ...pairs]
    const h = pairs.findIndex((n, i) => i % 2 === 0 && n === 'host')
    this.blockHost = h < 0 ? '' : `host: ${pairs[h + 1]}\r\n`
    // the other lines as written, not the block with the Host line's text removed: `x-host: v` ends with `host: v`
    this.blockNoHost = h < 0 ? block : lines.filter((_, i) => i !== h / 2).map(l => l + '\r\n').join('')
    this.blockDate = pairs.some((n, i) => i % 2 === 0 && n === 'date')
    const edits: (string | null)[] = []
    for (let i = 0; i < o.edits.length; i += 2) {
      const v = o.edits[i + 1]
      edits.push(checkName(o.edits[i] as string), v === null ? null : checkValue(v))
    }
    this.edits = edits
  }
}

// The checker refuses bad names and values (E0306) and codegen refuses them again; a plan refuses them a third
// time at load, so a bundle altered by hand still cannot put a CR or LF on the wire.
function checkName(n: unknown): string {
  if (typeof n !== 'string' || !TOKEN.test(n) || n !== n.toLowerCase() || GATEWAY_OWNED.has(n)) throw new Error(`head plan: bad header name ${JSON.stringify(n)}`)
  return n
}
function checkValue(v: unknown): string {
  if (typeof v !== 'string' || !FIELD_VALUE.test(v)) throw new Error(`head plan: bad header value ${JSON.stringify(v)}`)
  return v
}

/** A route with no `headers` stage (in that direction): the gateway's own pieces only. */
export const NO_PLAN = new HeadPlan({ drop: [], block: '', edits: [] })

/** What the generated module's `heads` dependency is: the plan factories, called once per `headers` stage at load. */
export const HEAD_PLANS: HeadPlanFactories<HeadPlan> = {
  request: o => new HeadPlan(o),
  response: o => new HeadPlan(o),
}
