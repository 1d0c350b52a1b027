// How `gwc diff` compares and words IR values: deep equality, "old → new" texts, lists compared as sets.
// Shared by diff.ts and, through compiler/policy-api.ts, by the policies' own stage diffs.
import { formatQty } from '../values.js'

/** One field that differs. `old`/`new` are the raw IR values (null = absent); `text` reads "old → new". */
export interface Change { field: string; old: unknown; new: unknown; text: string }

export type Fmt = (v: any) => string
export const dur: Fmt = v => (v === null ? 'none' : formatQty('duration', v))
export const size: Fmt = v => formatQty('size', v)
export const pct: Fmt = v => (v === null ? 'none' : formatQty('percent', v))
export const plain: Fmt = v => (v === null || v === undefined ? 'none' : Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(', ')) : String(v))

/** Deep equality of plain IR data. */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a), kb = Object.keys(b)
  return ka.length === kb.length && ka.every(k => same((a as any)[k], (b as any)[k]))
}

export const change = (field: string, o: unknown, n: unknown, text: string): Change => ({ field, old: o ?? null, new: n ?? null, text })
export const valueChange = (field: string, o: unknown, n: unknown, f: Fmt = plain): Change[] => (same(o, n) ? [] : [change(field, o, n, `${f(o)} → ${f(n)}`)])

/** Lists compared as sets: the text names what was added and removed (and shows both lists when short). */
export function setChange(field: string, o: string[], n: string[], empty = 'none'): Change[] {
  const added = n.filter(x => !o.includes(x)), removed = o.filter(x => !n.includes(x))
  if (added.length === 0 && removed.length === 0) return []
  const parts = [...added.map(x => '+' + x), ...removed.map(x => '-' + x)].join(' ')
  const both = `${o.length ? o.join(', ') : empty} → ${n.length ? n.join(', ') : empty}`
  return [change(field, o, n, both.length <= 60 ? `${both} (${parts})` : parts)]
}

export type Spec<T> = [key: keyof T, label: string, fmt?: Fmt][]

export function fields<T>(prefix: string, o: T, n: T, spec: Spec<T>): Change[] {
  return spec.flatMap(([k, label, f]) => valueChange(prefix + label, o[k], n[k], f))
}

/** An optional block: appearing and disappearing is one change; otherwise field by field. */
export function optional<T>(field: string, o: T | null, n: T | null, spec: Spec<T>, summary: (x: T) => string): Change[] {
  if (o === null && n === null) return []
  if (o === null || n === null) return [change(field, o, n, `${o === null ? 'none' : summary(o)} → ${n === null ? 'none' : summary(n)}`)]
  return fields(field + '.', o, n, spec)
}
