// Reading the replacement of `rewrite regex "PATTERN" "REPLACEMENT"`: literal text and `$1`…`$9` references
// (`$$` is a literal `$`), split into the parts the stage concatenates.
import type { Template } from './options.js'

/** Characters a path may hold literally (RFC 3986 pchar and `/`); anything else must be percent-encoded. */
export const PATH_TEXT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$/

export interface TemplateProblem { at: number; len: number; message: string; hint: string }

/** The template's parts, or its first problem; `groups` is how many groups the pattern has. */
export function readTemplate(src: string, groups: number): Template | TemplateProblem {
  if (!src.startsWith('/')) return { at: 0, len: 1, message: 'the replacement does not start with `/`', hint: 'a rewritten path starts with `/`, e.g. `"/u/$1"`' }
  const lits = [''], refs: number[] = []
  for (let i = 0; i < src.length; i++) {
    const c = src[i]
    if (c !== '$') { lits[lits.length - 1] += c; continue }
    const d = src[i + 1]
    if (d === '$') { lits[lits.length - 1] += '$'; i++; continue }
    if (d === undefined || !/[1-9]/.test(d)) return { at: i, len: 1, message: 'a `$` that is not a group reference', hint: 'refer to a group as `$1`…`$9`; write a literal `$` as `$$`' }
    if (Number(d) > groups) return { at: i, len: 2, message: `the pattern has no group ${d}`, hint: groups === 0 ? 'put the part to keep in `( … )`' : `the pattern has ${groups} group${groups === 1 ? '' : 's'}` }
    refs.push(Number(d))
    lits.push('')
    i++
  }
  for (const [k, l] of lits.entries()) {
    if (!PATH_TEXT.test(l)) {
      const bad = [...l].findIndex(ch => !PATH_TEXT.test(ch) && ch !== '%')
      const at = src.indexOf(l, k === 0 ? 0 : 1) + Math.max(0, bad)
      return { at, len: 1, message: 'the replacement has a character a path cannot hold as is', hint: 'percent-encode it (`%20` for a space, upper-case hex); `?` and `#` cannot appear in a path' }
    }
  }
  return { lits, refs }
}

export const isTemplateProblem = (x: Template | TemplateProblem): x is TemplateProblem => 'message' in x
