// How the .gwp printer writes values: strings re-escaped, quantities and names as written, option lists.
// Shared by print.ts and, through compiler/policy-api.ts, by the policies' own statement printers.
import type * as A from '../../grammar/ast.js'

/**
 * A .gwp string literal for `s`: `"` and `\` escaped, newline and tab as `\n` and `\t`, and every other
 * control character (also U+2028/U+2029 and lone surrogates, which would not survive a UTF-8 file) as
 * `\u{…}`, so the printed text is one visible line and reads back to exactly `s`.
 */
export function quote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += `\\u{${cp.toString(16).padStart(2, '0')}}`
    } else out += ch
  }
  return out + '"'
}

/** A value as the lexer reads it back: quantities and addresses as written, words bare, strings quoted. */
export function printValue(v: A.Value): string {
  switch (v.kind) {
    case 'word': return v.value
    case 'str': return quote(v.value)
    case 'qty': case 'addr': return v.raw
  }
}

/** A header or claim name: bare when it was a word, quoted otherwise. */
export const printName = (n: A.NameV): string => (n.kind === 'word' ? n.value : quote(n.value))
/** An option list as `name value…` items. */
export const printOptions = (os: A.OptionAst[]): string[] => os.map(o => [o.name.value, ...o.values.map(printValue)].join(' '))
/** Joins the non-empty parts with single spaces. */
export const words = (...parts: (string | string[] | null | undefined | false)[]): string =>
  parts.flat().filter((p): p is string => typeof p === 'string' && p !== '').join(' ')
