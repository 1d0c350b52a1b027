// Typed literals: durations, sizes, percentages and counts are checked here, so a unit mistake is a compile
// error with a caret under it. Also reads option lists (`pool connections 64 idle 30s`) against a schema.
import type { OptionAst, QtyV, Span, Value } from '../grammar/ast.js'
import { closest, type Diagnostics } from '../grammar/index.js'

export type QtyKind = 'duration' | 'size' | 'percent' | 'count'

const DURATION: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** Sizes are binary (as in nginx): 1KB = 1KiB = 1024 bytes. */
const SIZE: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }
const ALL_UNITS = [...Object.keys(DURATION), ...Object.keys(SIZE), '%']

const KIND_OF_UNIT = (u: string): QtyKind | undefined =>
  u === '' ? 'count' : u in DURATION ? 'duration' : u in SIZE ? 'size' : u === '%' ? 'percent' : undefined

const ARTICLE: Record<QtyKind, string> = { duration: 'a duration', size: 'a size', percent: 'a percentage', count: 'a count' }
const EXAMPLE: Record<QtyKind, string> = { duration: '`800ms`, `2s`, `5m`', size: '`512KB`, `10MB`', percent: '`10%`', count: 'a whole number like `3`' }

/** Inclusive bounds in the kind's base unit (ms, bytes, fraction 0..1, count). */
export interface Range { min?: number; max?: number }

export function formatQty(kind: QtyKind, v: number): string {
  switch (kind) {
    case 'duration': return v % 3_600_000 === 0 && v > 0 ? `${v / 3_600_000}h` : v % 60_000 === 0 && v > 0 ? `${v / 60_000}m` : v % 1000 === 0 && v > 0 ? `${v / 1000}s` : `${v}ms`
    case 'size': return v % 1024 ** 3 === 0 && v > 0 ? `${v / 1024 ** 3}GB` : v % 1024 ** 2 === 0 && v > 0 ? `${v / 1024 ** 2}MB` : v % 1024 === 0 && v > 0 ? `${v / 1024}KB` : `${v}B`
    case 'percent': return `${+(v * 100).toFixed(6)}%`
    case 'count': return String(v)
  }
}

/**
 * The value of a quantity in its kind's base unit, or undefined after reporting why it is not one.
 * `what` names the setting in messages (e.g. "`timeout`").
 */
export function readQty(q: QtyV, kind: QtyKind, what: string, d: Diagnostics, range: Range = {}): number | undefined {
  const got = KIND_OF_UNIT(q.unit)
  if (got === undefined) {
    const own = kind === 'duration' ? Object.keys(DURATION) : kind === 'size' ? Object.keys(SIZE) : kind === 'percent' ? ['%'] : []
    const guess = closest(q.unit, own) ?? closest(q.unit, ALL_UNITS)
    d.error('E0302', q.span, `unknown unit \`${q.unit}\` in \`${q.raw}\``, {
      label: `${what} takes ${ARTICLE[kind]}`,
      hint: guess ? `did you mean \`${q.num}${guess}\`?` : `${ARTICLE[kind]} looks like ${EXAMPLE[kind]}`,
    })
    return undefined
  }
  if (got !== kind) {
    if (got === 'count') {
      d.error('E0304', q.span, `\`${q.raw}\` has no unit, but ${what} takes ${ARTICLE[kind]}`, { label: 'unit missing', hint: `write it with a unit, e.g. ${EXAMPLE[kind]}` })
    } else {
      d.error('E0301', q.span, `\`${q.raw}\` is ${ARTICLE[got]}, but ${what} takes ${ARTICLE[kind]}`, { label: `expected ${ARTICLE[kind]}`, hint: `${ARTICLE[kind]} looks like ${EXAMPLE[kind]}` })
    }
    return undefined
  }
  let v: number
  switch (kind) {
    case 'duration': v = q.num * DURATION[q.unit]; break
    case 'size': v = q.num * SIZE[q.unit]; break
    case 'percent': v = q.num / 100; break
    case 'count': v = q.num; break
  }
  const shown = q.raw.length > 24 ? q.raw.slice(0, 16) + '…' + q.raw.slice(-4) : q.raw
  if ((!Number.isFinite(v) || v > Number.MAX_SAFE_INTEGER) && range.max === undefined) {
    d.error('E0303', q.span, `${what} is far too large: \`${shown}\``, { label: 'out of range' })
    return undefined
  }
  if (!Number.isFinite(v)) v = Number.MAX_VALUE
  if ((kind === 'count' || kind === 'size' || kind === 'duration') && !Number.isInteger(v) && v <= Number.MAX_SAFE_INTEGER) {
    d.error('E0303', q.span, `${what} must be a whole number${kind === 'count' ? '' : ` of ${kind === 'size' ? 'bytes' : 'milliseconds'}`}, got \`${q.raw}\``, { label: 'not a whole number' })
    return undefined
  }
  if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
    const lo = range.min !== undefined ? formatQty(kind, range.min) : undefined
    const hi = range.max !== undefined ? formatQty(kind, range.max) : undefined
    const bounds = lo !== undefined && hi !== undefined ? `between ${lo} and ${hi}` : lo !== undefined ? `at least ${lo}` : `at most ${hi}`
    d.error('E0303', q.span, `${what} must be ${bounds}, got \`${shown}\``, { label: 'out of range' })
    return undefined
  }
  return v
}

// ── option lists ───────────────────────────────────────────────────────────────────────────────

export type OptSpec =
  | { kind: QtyKind; range?: Range }
  | { kind: 'string' }
  | { kind: 'strings' }
  | { kind: 'flag' }

export type OptValue = number | string | string[] | true
export interface ReadOpt { value: OptValue; span: Span; values: Value[] }

const describeValue = (v: Value): string => (v.kind === 'str' ? 'a string' : v.kind === 'addr' ? 'an address' : v.kind === 'qty' ? `\`${v.raw}\`` : `\`${v.value}\``)

/**
 * Reads `name value*` options against a schema. Unknown names get a "did you mean", repeats and missing
 * or extra values are reported. Returns only the options that read cleanly.
 */
export function readOptions(options: OptionAst[], schema: Record<string, OptSpec>, where: string, d: Diagnostics): Map<string, ReadOpt> {
  const out = new Map<string, ReadOpt>()
  const seen = new Map<string, Span>()
  for (const o of options) {
    const name = o.name.value
    const spec = schema[name]
    if (spec === undefined) {
      const guess = closest(name, Object.keys(schema))
      d.error('E0205', o.name.span, `unknown option \`${name}\` for ${where}`, {
        label: 'not an option here',
        hint: guess ? `did you mean \`${guess}\`?` : `${where} takes ${Object.keys(schema).map(k => '`' + k + '`').join(', ')}`,
      })
      continue
    }
    const first = seen.get(name)
    if (first !== undefined) {
      d.error('E0103', o.name.span, `option \`${name}\` is given twice`, { label: 'given again here', notes: [{ message: 'first given here', span: first }], hint: 'keep one of them' })
      continue
    }
    seen.set(name, o.name.span)
    const what = `\`${name}\``
    if (spec.kind === 'flag') {
      if (o.values.length > 0) { d.error('E0307', o.values[0].span, `option \`${name}\` takes no value`, { label: 'unexpected value', hint: 'remove the value' }); continue }
      out.set(name, { value: true, span: o.name.span, values: [] })
      continue
    }
    if (o.values.length === 0) {
      d.error('E0307', o.name.span, `option \`${name}\` needs a value`, { label: `expected ${spec.kind === 'string' || spec.kind === 'strings' ? 'a string' : ARTICLE[spec.kind]} after this` })
      continue
    }
    if (spec.kind === 'strings') {
      const bad = o.values.find(v => v.kind !== 'str')
      if (bad !== undefined) { d.error('E0301', bad.span, `${what} takes strings, got ${describeValue(bad)}`, { hint: 'put the value in double quotes' }); continue }
      out.set(name, { value: o.values.map(v => (v as { value: string }).value), span: o.name.span, values: o.values })
      continue
    }
    if (o.values.length > 1) { d.error('E0307', o.values[1].span, `option \`${name}\` takes one value`, { label: 'extra value' }); continue }
    const v = o.values[0]
    if (spec.kind === 'string') {
      if (v.kind !== 'str') { d.error('E0301', v.span, `${what} takes a string, got ${describeValue(v)}`, { hint: 'put the value in double quotes' }); continue }
      out.set(name, { value: v.value, span: v.span, values: [v] })
      continue
    }
    if (v.kind !== 'qty') { d.error('E0301', v.span, `${what} takes ${ARTICLE[spec.kind]}, got ${describeValue(v)}`, { hint: `${ARTICLE[spec.kind]} looks like ${EXAMPLE[spec.kind]}` }); continue }
    const n = readQty(v, spec.kind, what, d, spec.range)
    if (n !== undefined) out.set(name, { value: n, span: v.span, values: [v] })
  }
  return out
}

/** Typed accessors for a read option map. */
export const optNum = (m: Map<string, ReadOpt>, k: string): number | undefined => m.get(k)?.value as number | undefined
export const optStr = (m: Map<string, ReadOpt>, k: string): string | undefined => m.get(k)?.value as string | undefined
export const optFlag = (m: Map<string, ReadOpt>, k: string): boolean => m.get(k)?.value === true
