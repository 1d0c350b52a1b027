// Renders diagnostics for people (rustc-style: location, source line, caret, hint), for editors (JSON) and
// for CI (GitHub Actions workflow commands). Pure functions: bin/gwc prints what they return.
import type { Diagnostic } from '../../grammar/index.js'

/** Source text by display path, for quoting the offending line. */
export type SourceTexts = Map<string, string>

function lineOf(texts: SourceTexts, file: string, line: number): string | undefined {
  const t = texts.get(file)
  if (t === undefined) return undefined
  return t.split('\n')[line - 1]?.replace(/\r$/, '')
}

/** Columns count characters; tabs are shown as one space so the caret lines up. */
const visible = (s: string): string => s.replace(/\t/g, ' ')

function snippet(texts: SourceTexts, file: string, line: number, col: number, len: number, label: string | undefined, gutter: number): string[] {
  const src = lineOf(texts, file, line)
  if (src === undefined) return []
  const pad = ' '.repeat(gutter)
  const width = Math.max(1, Math.min(len, Math.max(1, src.length - col + 1)))
  return [
    `${pad} |`,
    `${String(line).padStart(gutter)} | ${visible(src)}`,
    `${pad} | ${' '.repeat(Math.max(0, col - 1))}${'^'.repeat(width)}${label ? ' ' + label : ''}`,
  ]
}

export function renderText(diags: Diagnostic[], texts: SourceTexts): string {
  const out: string[] = []
  for (const d of diags) {
    const gutter = String(Math.max(d.line, ...(d.notes ?? []).map(n => n.line))).length
    const pad = ' '.repeat(gutter)
    out.push(`${d.severity}[${d.code}]: ${d.message}`)
    out.push(`${pad}--> ${d.file}:${d.line}:${d.col}`)
    out.push(...snippet(texts, d.file, d.line, d.col, d.len, d.label, gutter))
    for (const n of d.notes ?? []) {
      out.push(`${pad}::: ${n.file}:${n.line}:${n.col}`)
      out.push(...snippet(texts, n.file, n.line, n.col, n.len, n.message, gutter))
    }
    if (d.hint) out.push(`${pad} = hint: ${d.hint}`)
    out.push('')
  }
  return out.join('\n')
}

export function summary(diags: Diagnostic[]): string {
  const e = diags.filter(d => d.severity === 'error').length
  const w = diags.length - e
  if (e === 0 && w === 0) return 'no problems found'
  const part = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`
  return [e > 0 ? part(e, 'error') : '', w > 0 ? part(w, 'warning') : ''].filter(Boolean).join(', ')
}

export function renderJson(diags: Diagnostic[]): string {
  return JSON.stringify(diags, null, 2) + '\n'
}

/**
 * GitHub Actions annotations: `::error file=…,line=…,col=…,title=…::message`, escaped per the runner's rules.
 * The message's lines: the diagnostic, one `file:line:col: note` per related location, then the hint.
 */
export function renderGithub(diags: Diagnostic[]): string {
  const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
  const prop = (s: string) => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C')
  return diags.map(d => {
    // an annotation has one location: the related ones (notes) and the hint go into its text
    const notes = (d.notes ?? []).map(n => `${n.file}:${n.line}:${n.col}: ${n.message}`)
    const msg = [d.message, ...notes, ...(d.hint ? [d.hint] : [])].join('\n')
    return `::${d.severity === 'error' ? 'error' : 'warning'} file=${prop(d.file)},line=${d.line},col=${d.col},endColumn=${d.col + d.len},title=${prop(d.code)}::${data(msg)}`
  }).join('\n') + (diags.length > 0 ? '\n' : '')
}
