// Compile side of IP lists: `ip allow "CIDR", …` and `ip deny "CIDR", …`. Each entry is read (E0510, E0511,
// W0780 host bits); entries a broader one of the same list already covers are dead (W0781); and once the route's
// whole pipeline is known, an allow entry inside a deny entry, or a deny entry outside every allow entry, is dead
// too (W0782), and an allow list the deny list covers entirely refuses every client (E0512).
import { spanOf, type A, type CheckContext, type PipelineView, type StageIR } from '../../compiler/policy-api.js'
import { covers, isEverything, overlaps, readCidr, type Cidr } from './cidr.js'
import type { IpOptions } from './options.js'

/** `ip allow|deny "CIDR", …`, as the parser (or the YAML front end) reads it. */
export interface IpStmt { kind: 'ip'; mode: 'allow' | 'deny'; entries: A.StrV[]; span: A.Span }

/** A checked `ip` stage: exactly the options its runtime stage is bound with, less the route. */
export interface IpStageIR extends StageIR, Omit<IpOptions, 'route'> { kind: 'ip' }

const code = (s: string) => '`' + s + '`'

/** The entries of a statement that read, with their spans (no diagnostics: `check` reported the rest). */
export function entriesOf(s: IpStmt): { cidr: Cidr; span: A.Span }[] {
  const out: { cidr: Cidr; span: A.Span }[] = []
  for (const e of s.entries) { const r = readCidr(e.value); if (r.ok) out.push({ cidr: r.cidr, span: e.span }) }
  return out
}

export function checkIpStage(ctx: CheckContext, s: IpStmt): IpStageIR | undefined {
  let ok = true
  const read: { cidr: Cidr; span: A.Span; raw: string }[] = []
  for (const e of s.entries) {
    const r = readCidr(e.value)
    if (!r.ok) { ctx.d.error(r.code, e.span, r.message, { label: r.label, hint: r.hint }); ok = false; continue }
    if (r.hostBits) {
      ctx.d.warn('W0780', e.span, `${code(e.value)} has host bits set: it is matched as ${code(r.cidr.text)}`, {
        label: `bits after the first ${r.cidr.prefix} are ignored`, hint: `write ${code(r.cidr.text)}, or \`/${r.cidr.family === 4 ? 32 : 128}\` for the one address`,
      })
    }
    read.push({ ...r, span: e.span, raw: e.value })
  }
  if (!ok) return undefined
  // An entry inside another of the same list (or the same range twice) changes nothing: the author may
  // believe it narrows or widens the list. Reported at the later-written or narrower one.
  const live: Cidr[] = []
  for (let i = 0; i < read.length; i++) {
    const e = read[i]
    const j = read.findIndex((o, k) => k !== i && covers(o.cidr, e.cidr) && (o.cidr.prefix < e.cidr.prefix || k < i))
    if (j >= 0) {
      const o = read[j]
      const same = o.cidr.prefix === e.cidr.prefix
      ctx.d.warn('W0781', e.span, same ? `${code(e.raw)} is listed twice in this ${s.mode} list` : `${code(e.raw)} is inside ${code(o.cidr.text)}, also in this ${s.mode} list`, {
        label: 'this entry changes nothing', notes: [{ message: same ? 'first listed here' : 'the broader entry', span: o.span }], hint: 'remove it',
      })
      continue
    }
    live.push(e.cidr)
  }
  if (s.mode === 'deny' && live.filter(isEverything).length === 2) {
    ctx.d.error('E0512', s.span, 'this deny list refuses every client', {
      label: 'both `0.0.0.0/0` and `::/0` are denied', hint: 'to close a route, answer it with `respond 403`; otherwise narrow the list',
    })
    return undefined
  }
  return { kind: 'ip', mode: s.mode, entries: live.map(c => c.text), source: spanOf(s.span) }
}

/** The route's other IP lists, checked against this one once the pipeline is known. */
export function lintIp(ctx: CheckContext, ir: IpStageIR, s: IpStmt, pipeline: PipelineView): void {
  const other = pipeline.stages.filter((x): x is IpStageIR => x.kind === 'ip' && (x as IpStageIR).mode !== ir.mode)
  if (other.length === 0) return
  const others = other.flatMap(x => x.entries.map(t => readCidr(t))).flatMap(r => (r.ok ? [r.cidr] : []))
  // the live entries (ir.entries), each once, where the statement wrote it
  const mine = entriesOf(s).filter((e, i, all) => ir.entries.includes(e.cidr.text) && all.findIndex(x => x.cidr.text === e.cidr.text) === i)
  if (ir.mode === 'allow') {
    // deny wins: an allow entry inside a deny entry admits nobody
    const dead = mine.map(e => ({ e, by: others.find(d => covers(d, e.cidr)) })).filter(x => x.by !== undefined)
    if (dead.length === mine.length && mine.length > 0) {
      ctx.d.error('E0512', s.span, 'these IP rules refuse every client: the deny list covers every allow entry', {
        label: 'nothing is left to allow', notes: dead.map(x => ({ message: `${code(x.e.cidr.text)} is denied by ${code(x.by!.text)}`, span: x.e.span })),
        hint: 'to close a route, answer it with `respond 403`; otherwise narrow the deny list',
      })
      return
    }
    for (const { e, by } of dead) {
      ctx.d.warn('W0782', e.span, `allow entry ${code(e.cidr.text)} is dead: the deny entry ${code(by!.text)} covers it`, {
        label: 'deny is checked first', hint: 'remove it, or narrow the deny entry',
      })
    }
  } else {
    // with an allow list, addresses outside it are refused anyway: a deny entry outside every allow entry does nothing
    for (const e of mine) {
      if (others.some(a => overlaps(a, e.cidr))) continue
      ctx.d.warn('W0782', e.span, `deny entry ${code(e.cidr.text)} is dead: no allow entry of this route admits it`, {
        label: 'refused anyway by the allow list', hint: 'remove it; a deny entry matters only inside an allow entry',
      })
    }
  }
}
