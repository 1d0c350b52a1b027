// Compile side of `respond redirect STATUS "TARGET"`: the status, and the target read into the parts
// config/location.ts fills in per request. What is refused and why (docs/language.md, "Redirects"): a target is
// absolute (`http(s)://` + a host part that is fixed text or exactly `{host}`, with an optional `:port`) or a
// path starting with one `/`; request data can then never choose the host a client is sent to.
import type * as A from '../../grammar/ast.js'
import { closest } from '../../grammar/index.js'
import { HOST_HEADER } from '../../config/http.js'
import { PLACEHOLDERS, type LocationPart, type Placeholder } from '../../config/location.js'
import type { CheckContext } from './context.js'
import { inString } from './spans.js'

export const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308]

/** Characters a target may hold literally (RFC 3986 URI characters; `%` only in a valid escape). */
const URI_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]/

type Tok = { text: string; at: number } | { ph: Placeholder; at: number; len: number }

/** The target's parts, or undefined after reporting E0496–E0498. */
export function readRedirectTarget(ctx: CheckContext, v: A.StrV): LocationPart[] | undefined {
  const s = v.value
  const err = (code: 'E0496' | 'E0497' | 'E0498', at: number, len: number, message: string, label: string, hint: string): undefined => {
    ctx.d.error(code, inString(v, at, len), message, { label, hint })
    return undefined
  }
  // 1. literal text and `{placeholders}`
  const toks: Tok[] = []
  let lit = '', litAt = 0
  const flush = (): void => { if (lit !== '') toks.push({ text: lit, at: litAt }); lit = '' }
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '{') {
      const end = s.indexOf('}', i)
      if (end < 0) return err('E0498', i, 1, 'a `{` that is not closed', 'unclosed placeholder', 'write `{host}`, `{path}` or `{query}`; a literal brace is `%7B`')
      const name = s.slice(i + 1, end)
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        const guess = closest(name, PLACEHOLDERS)
        return err('E0496', i, end - i + 1, `unknown placeholder \`{${name}}\``, 'not a part of the request', guess ? `did you mean \`{${guess}}\`?` : 'the parts are `{host}`, `{path}` and `{query}`')
      }
      flush()
      toks.push({ ph: name as Placeholder, at: i, len: end - i + 1 })
      i = end
      continue
    }
    if (c === '}') return err('E0498', i, 1, 'a `}` without its `{`', 'stray brace', 'a literal brace is `%7D`')
    if (c === '%' && !/^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) return err('E0498', i, 1, 'a `%` that does not start a percent escape', 'malformed escape', 'write `%25` for a literal `%`')
    if (c !== '%' && !URI_CHAR.test(c)) {
      const what = c === ' ' ? 'a space' : /[\x00-\x1f\x7f]/.test(c) ? 'a control character' : `\`${c}\``
      return err('E0498', i, 1, `${what} cannot appear in a redirect target`, 'not a URL character', 'percent-encode it (`%20` for a space)')
    }
    if (lit === '') litAt = i
    lit += c
  }
  flush()
  if (toks.length === 0) return err('E0498', 0, 1, 'the redirect target is empty', 'empty', 'write e.g. `"https://{host}{path}?{query}"`')
  // 2. absolute (scheme://host) or a path
  const parts: LocationPart[] = []
  let k = 0
  const first = toks[0]
  const scheme = 'text' in first ? /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(first.text) : null
  if (scheme !== null) {
    const sch = scheme[1].toLowerCase()
    if ((sch !== 'http' && sch !== 'https') || !(first as { text: string }).text.startsWith(`${scheme[1]}://`)) {
      return err('E0498', 0, scheme[0].length, `a redirect target is \`http://…\`, \`https://…\` or a path, not \`${scheme[0]}…\``, 'not http(s)', 'write `https://HOST/…`, or a path starting with `/`')
    }
    // the host part: from after `//` to the first `/`, `?` or `#`
    const authority: Tok[] = []
    let rest: Tok | null = null
    const head = (first as { text: string }).text.slice(scheme[0].length + 2)
    const splitAt = (t: string): number => t.search(/[/?#]/)
    const startAt = first.at + scheme[0].length + 2
    let done = false
    const take = (t: { text: string; at: number }): void => {
      const cut = splitAt(t.text)
      if (cut < 0) { if (t.text !== '') authority.push(t); return }
      if (cut > 0) authority.push({ text: t.text.slice(0, cut), at: t.at })
      rest = { text: t.text.slice(cut), at: t.at + cut }
      done = true
    }
    take({ text: head, at: startAt })
    k = 1
    while (!done && k < toks.length) {
      const t = toks[k]
      // `{path}` starts with `/`: after a host part it begins the path
      if ('ph' in t && t.ph === 'path' && authority.length > 0) break
      k++
      if ('ph' in t) {
        if (t.ph !== 'host') return err('E0497', t.at, t.len, `\`{${t.ph}}\` in the host part of the target`, 'request data would choose the host', 'the host part is fixed text or `{host}` (the request\'s own Host); put `{path}` after it')
        authority.push(t)
      } else take(t)
    }
    const hostPh = authority.filter(t => 'ph' in t)
    const text = authority.filter((t): t is { text: string; at: number } => 'text' in t)
    if (authority.length === 0) return err('E0498', startAt, 1, 'the redirect target has no host', 'host missing', 'write `https://{host}…` or a fixed host')
    if (text.some(t => t.text.includes('@'))) { const t = text.find(x => x.text.includes('@'))!; return err('E0497', t.at + t.text.indexOf('@'), 1, 'the target\'s host part has user information (`@`)', 'the host would be what follows `@`', 'remove the `user@` part') }
    if (hostPh.length > 0) {
      const port = authority.length === 2 && 'text' in authority[1] && /^:\d{1,5}$/.test(authority[1].text)
      if (!('ph' in authority[0]) || !(authority.length === 1 || port)) {
        const bad = authority.find(t => 'text' in t) ?? authority[0]
        return err('E0497', bad.at, 'text' in bad ? bad.text.length : bad.len, 'the host part mixes `{host}` with other text', 'a host built from request data', 'write exactly `{host}` (optionally `{host}:8443`), or a fixed host')
      }
      parts.push({ text: `${sch}://` }, { part: 'host' })
      if (port) parts.push({ text: (authority[1] as { text: string }).text })
    } else {
      const h = text.map(t => t.text).join('')
      if (!HOST_HEADER.test(h)) return err('E0498', text[0].at, h.length, `\`${h}\` is not a host`, 'not a host[:port]', 'write a DNS name, an IPv4 or [IPv6] address, with an optional `:port`')
      parts.push({ text: `${sch}://${h.toLowerCase()}` })
    }
    if (rest !== null) toks.splice(k, 0, rest)
  } else if ('ph' in first) {
    if (first.ph !== 'path') return err('E0498', first.at, first.len, `a redirect target cannot start with \`{${first.ph}}\``, 'neither a URL nor a path', 'start with `https://…` or a path: `/…` or `{path}`')
  } else {
    if (!first.text.startsWith('/')) return err('E0498', 0, 1, 'a redirect target is `http://…`, `https://…` or a path starting with `/`', 'neither a URL nor a path', 'write `/new/place` or `https://{host}{path}`')
    if (/^[/\\][/\\]/.test(first.text)) return err('E0497', 0, 2, 'a target starting with `//` is a URL on another host (scheme-relative)', 'another host', 'write one `/`, or a full `https://…` URL')
    if (first.text === '/' && toks[1] !== undefined && 'ph' in toks[1] && toks[1].ph === 'path') {
      return err('E0497', 0, toks[1].at + toks[1].len, '`/{path}` starts with `//`, a URL on another host', '`/` + `/evil.example` → `//evil.example`', '`{path}` starts with `/` itself: write `{path}`')
    }
  }
  // 3. the path, query and fragment
  let section: 'path' | 'query' | 'fragment' = 'path'
  for (let i = k; i < toks.length; i++) {
    const t = toks[i]
    if ('text' in t) {
      for (const c of t.text) { if (c === '?' && section === 'path') section = 'query'; else if (c === '#') section = 'fragment' }
      parts.push({ text: t.text })
      continue
    }
    const prev = parts[parts.length - 1]
    const prevText = prev !== undefined && 'text' in prev ? prev.text : ''
    if (t.ph === 'path') {
      if (section !== 'path') return err('E0498', t.at, t.len, '`{path}` after the `?`', 'the path belongs before the query', 'put `{path}` before `?`')
      if (prevText.endsWith('/')) return err('E0498', t.at - 1, t.len + 1, '`/` before `{path}` doubles the slash', '`{path}` starts with `/`', 'remove the `/` before `{path}`')
      parts.push({ part: 'path' })
    } else if (t.ph === 'query') {
      const lead = prevText.slice(-1)
      if (section !== 'query' || (lead !== '?' && lead !== '&')) return err('E0498', t.at, t.len, '`{query}` does not follow `?` or `&`', 'the query needs its `?`', 'write `?{query}` (left out with the `?` when the request has no query)')
      const before = prev as { text: string } // a `?` or `&` was the last character of the text part before
      before.text = prevText.slice(0, -1)
      if (before.text === '') parts.pop()
      parts.push({ part: 'query', lead })
    } else parts.push({ part: 'host' })
  }
  // adjacent text parts merge (fewer concatenations per request)
  const merged: LocationPart[] = []
  for (const p of parts) {
    const last = merged[merged.length - 1]
    if ('text' in p && last !== undefined && 'text' in last) merged[merged.length - 1] = { text: last.text + p.text }
    else merged.push({ ...p })
  }
  return merged
}
