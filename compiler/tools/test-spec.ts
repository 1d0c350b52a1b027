// `gwc test`'s expectation file, read against its schema: every case's keys and values are checked, so a
// misspelt key (`stauts:`, `fowarded:`) is an error with a "did you mean" instead of an expectation that
// silently checks nothing. All problems are reported at once, as diagnostics at YAML positions, with the
// codes the YAML policy front end uses for the same kinds of problem (docs/tools.md lists them).
import { isIP } from 'node:net'
import { isAlias, LineCounter, parseDocument } from 'yaml'
import type * as A from '../../grammar/ast.js'
import { closest, Diagnostics, type Diagnostic } from '../../grammar/index.js'
import { FIELD_VALUE, TOKEN } from '../../config/http.js'
import { YamlReader, type Entry, type YNode } from '../../grammar/yaml/nodes.js'
import { syntaxMessage } from '../../grammar/yaml/policy.js'
import type { TestCase } from '../../runtime/offline.js'
import { REGISTRY } from '../policies.js'

/** The keys of one case, and of its `expect:` map. */
export const CASE_KEYS = ['name', 'request', 'headers', 'as', 'consumer', 'ip', 'repeat', 'upstream_status', 'expect'] as const
export const EXPECT_KEYS = ['route', 'status', 'stages', 'upstream', 'upstream_path', 'forwarded', 'headers'] as const
/** Stage kinds `expect.stages` may list (what the offline runner records): the registry's policies, then the terminals. */
export const STAGE_KINDS: readonly string[] = [...REGISTRY.list.map(p => p.kind), 'respond', 'proxy']
const MAX_REPEAT = 100_000

export interface SpecResult { cases: TestCase[]; diagnostics: Diagnostic[] }

const code = (s: string) => '`' + s + '`'

/**
 * Reads an expectation file's text (YAML or JSON): `cases:` (top-level `x-…` keys hold anchors) or a bare
 * list of cases. Never throws on bad input; `cases` is complete only when there are no errors.
 */
export function readSpecText(text: string, file: string): SpecResult {
  const d = new Diagnostics()
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false })
  const r = new YamlReader(file, text, lc, doc, d)
  const start = r.spanAt(0, 1)
  for (const e of [...doc.errors, ...doc.warnings]) {
    const [a, b] = e.pos
    d.error('E0002', r.spanAt(Math.min(a, text.length), Math.max(b, a + 1)), syntaxMessage(e.code, e.message), { hint: 'check the indentation, quoting and brackets around here' })
  }
  const cases: TestCase[] = []
  if (doc.errors.length > 0) return { cases, diagnostics: d.sorted() }
  let list: { node: YNode; path: string }[] | undefined
  if (r.isList(doc.contents)) list = r.list({ key: '', keySpan: start, value: doc.contents, path: 'cases' }, 'a list of cases', false)
  else {
    const top = r.fields(doc.contents, '', ['cases'], start, k => k.startsWith('x-'))
    const c = top?.get('cases')
    // (a misspelt `cases:` is already reported as an unknown key)
    const written = top === undefined ? [] : (r.entries(doc.contents, '', start) ?? []).filter(e => !e.key.startsWith('x-'))
    if (top !== undefined && c === undefined && written.length === 0) d.error('E0104', r.span(doc.contents, start), 'the spec has no `cases`', { label: 'nothing to run', hint: 'list the cases under `cases:`, each with `request:` and `expect:`' })
    if (c !== undefined) list = r.list(c, 'a list of cases', false)
  }
  for (const it of list ?? []) {
    const tc = readCase(r, it.node, it.path, start)
    if (tc !== undefined) cases.push(tc)
  }
  return { cases, diagnostics: d.sorted() }
}

function readCase(r: YamlReader, n: YNode, path: string, at: A.Span): TestCase | undefined {
  const span = r.span(n, at)
  // a key that belongs one level up or down gets that said, rather than a "did you mean" for a neighbour
  const f = r.fields(n, path, CASE_KEYS, at, k => misplaced(r, n, path, k, EXPECT_KEYS, CASE_KEYS, 'under `expect:`'))
  if (f === undefined) return undefined
  let ok = true
  const tc: Partial<TestCase> = {}
  const name = f.get('name')
  if (name !== undefined) { const s = r.str(name.value, name.path, name.keySpan); if (s === undefined) ok = false; else tc.name = s.value }
  const req = f.get('request')
  if (req === undefined) { r.d.error('E0104', r.span(n, at), `\`${path}\` has no \`request\``, { label: 'which request?', hint: 'write e.g. `request: GET https://api.example.com/v1/users`' }); ok = false }
  else {
    const s = r.str(req.value, req.path, req.keySpan, 'a request like `GET https://host/path`')
    if (s === undefined) ok = false
    else if (!requestOk(r, s)) ok = false
    else tc.request = s.value
  }
  const headers = f.get('headers')
  if (headers !== undefined) { const h = headerMap(r, headers, false); if (h === undefined) ok = false; else tc.headers = h as Record<string, string> }
  const as = f.get('as')
  if (as !== undefined) {
    const fs = r.entries(as.value, as.path, as.keySpan)
    if (fs === undefined) ok = false
    else tc.as = r.toJS(as.value) as Record<string, unknown>
  }
  const consumer = f.get('consumer')
  if (consumer !== undefined) {
    const s = r.str(consumer.value, consumer.path, consumer.keySpan, 'a consumer id')
    if (s === undefined) ok = false
    else if (!/^[A-Za-z0-9._:@+-]{1,128}$/.test(s.value)) { r.d.error('E0306', s.span, `\`${s.value}\` is not a consumer id`, { hint: 'a consumer id is 1-128 letters, digits or . _ : @ + -' }); ok = false }
    else tc.consumer = s.value
  }
  const ip = f.get('ip')
  if (ip !== undefined) {
    const s = r.str(ip.value, ip.path, ip.keySpan, 'an IP address')
    if (s === undefined) ok = false
    else if (isIP(s.value) === 0) { r.d.error('E0306', s.span, `\`${s.value}\` is not an IP address`, { label: 'the client address', hint: 'write an IPv4 or IPv6 address, e.g. `203.0.113.7`' }); ok = false }
    else tc.ip = s.value
  }
  const repeat = f.get('repeat')
  if (repeat !== undefined) { const v = int(r, repeat, 1, MAX_REPEAT, 'how many times to send the request'); if (v === undefined) ok = false; else tc.repeat = v }
  const us = f.get('upstream_status')
  if (us !== undefined) { const v = int(r, us, 100, 599, 'an HTTP status'); if (v === undefined) ok = false; else tc.upstream_status = v }
  const ex = f.get('expect')
  if (ex === undefined) { r.d.error('E0104', span, `\`${path}\` has no \`expect\``, { label: 'nothing is checked', hint: 'add e.g. `expect: { route: users, status: 200 }`' }); ok = false }
  else { const e = readExpect(r, ex); if (e === undefined) ok = false; else tc.expect = e }
  return ok ? tc as TestCase : undefined
}

/** `status` at the case level, `upstream_status` under `expect`: said where it goes. */
function misplaced(r: YamlReader, n: YNode, path: string, key: string, other: readonly string[], here: readonly string[], whereTo: string): boolean {
  if (here.includes(key) || !other.includes(key)) return false
  const e = r.entries(n, path, r.span(n, r.spanAt(0, 1)))?.find(x => x.key === key)
  if (e !== undefined) r.d.error('E0205', e.keySpan, `\`${key}\` is not a key of ${code(path)}`, { label: 'not a key here', hint: `it goes ${whereTo}` })
  return true
}

function requestOk(r: YamlReader, s: A.StrV): boolean {
  const parts = s.value.trim().split(/\s+/)
  const bad = (why: string, hint: string) => { r.d.error('E0306', s.span, `request \`${s.value}\` ${why}`, { label: 'not `METHOD URL`', hint }); return false }
  if (parts.length !== 2) return bad('is not a method and a URL', 'write `METHOD URL` or `METHOD /path`, e.g. `GET https://api.example.com/v1/users`')
  const [method, target] = parts
  if (!TOKEN.test(method)) return bad(`has no valid method (\`${method}\`)`, 'start with the method, e.g. `GET`')
  if (/^https?:\/\//i.test(target)) { try { new URL(target); return true } catch { return bad('has a malformed URL', 'write an absolute URL like `https://api.example.com/v1/users`') } }
  if (!target.startsWith('/')) return bad(`has a target that is neither a URL nor a path (\`${target}\`)`, 'write `https://host/path`, or `/path` with a `Host` header in `headers:`')
  return true
}

/** A status (`404`) or a status class (`2xx`), as a number or a string. */
function status(r: YamlReader, e: Entry): number | string | undefined {
  const t = r.scalarText(e.value)
  if (t !== undefined && /^[1-5]xx$/i.test(t)) return t
  if (t !== undefined && /^\d+$/.test(t) && Number(t) >= 100 && Number(t) <= 599) return Number(t)
  r.wrong(e.value, e.path, 'a status (`404`) or a status class (`2xx`)', e.keySpan)
  return undefined
}

function int(r: YamlReader, e: Entry, min: number, max: number, what: string): number | undefined {
  const t = r.scalarText(e.value)
  if (t === undefined || !r.isNumber(e.value) || !/^\d+$/.test(t)) { r.wrong(e.value, e.path, `a whole number (${what})`, e.keySpan); return undefined }
  const v = Number(t)
  if (v < min || v > max) { r.d.error('E0303', r.span(e.value, e.keySpan), `${code(e.path)} must be between ${min} and ${max}, got \`${t}\``, { label: 'out of range' }); return undefined }
  return v
}

/** Header name → value; `null` (must be absent) only where `nullable`. Numbers and booleans read as text. */
function headerMap(r: YamlReader, e: Entry, nullable: boolean): Record<string, string | null> | undefined {
  const es = r.entries(e.value, e.path, e.keySpan)
  if (es === undefined) return undefined
  const out: Record<string, string | null> = {}
  let ok = true
  for (const h of es) {
    if (!TOKEN.test(h.key)) { r.d.error('E0306', h.keySpan, `\`${h.key}\` is not a valid header name`, { label: 'not a header name', hint: 'header names are letters, digits and `-`' }); ok = false; continue }
    if (nullable && r.describe(h.value) === 'nothing' && !isDangling(r, h.value)) { out[h.key] = null; continue }
    const v = r.scalarText(h.value)
    if (v === undefined) { r.wrong(h.value, h.path, nullable ? 'a header value, or `null` for "absent"' : 'a header value', h.keySpan); ok = false; continue }
    if (!FIELD_VALUE.test(v)) { r.d.error('E0306', r.span(h.value, h.keySpan), 'a header value cannot contain control characters such as newlines', { label: 'not a header value' }); ok = false; continue }
    out[h.key] = v
  }
  return ok ? out : undefined
}

/** An alias with no anchor also describes as "nothing": it must not read as `null` (absent). */
const isDangling = (r: YamlReader, n: YNode): boolean => isAlias(n) && r.resolve(n) === undefined

function readExpect(r: YamlReader, ex: Entry): TestCase['expect'] | undefined {
  const f = r.fields(ex.value, ex.path, EXPECT_KEYS, ex.keySpan, k => misplaced(r, ex.value, ex.path, k, CASE_KEYS, EXPECT_KEYS, 'on the case, next to `expect:`'))
  if (f === undefined) return undefined
  let ok = true
  const e: TestCase['expect'] = {}
  const route = f.get('route')
  if (route !== undefined) {
    if (r.describe(route.value) === 'nothing' && !isDangling(r, route.value)) e.route = null
    else { const s = r.str(route.value, route.path, route.keySpan, 'a route name, or `null` for no route (404)'); if (s === undefined) ok = false; else e.route = s.value }
  }
  const st = f.get('status')
  if (st !== undefined) { const v = status(r, st); if (v === undefined) ok = false; else e.status = v }
  const stages = f.get('stages')
  if (stages !== undefined) {
    const items = r.list(stages, 'a list of stage kinds', false)
    if (items === undefined) ok = false
    else {
      const out: string[] = []
      for (const it of items) {
        const s = r.str(it.node, it.path, stages.keySpan, 'a stage kind')
        if (s === undefined) { ok = false; continue }
        if (!STAGE_KINDS.includes(s.value)) {
          const guess = closest(s.value, STAGE_KINDS)
          r.d.error('E0206', s.span, `unknown stage \`${s.value}\``, { label: 'not a stage kind', hint: guess ? `did you mean \`${guess}\`?` : `stages are ${STAGE_KINDS.map(code).join(', ')}` })
          ok = false
          continue
        }
        out.push(s.value)
      }
      e.stages = out
    }
  }
  const up = f.get('upstream')
  if (up !== undefined) { const s = r.str(up.value, up.path, up.keySpan, 'an upstream name'); if (s === undefined) ok = false; else e.upstream = s.value }
  const upath = f.get('upstream_path')
  if (upath !== undefined) {
    const s = r.str(upath.value, upath.path, upath.keySpan, 'a path and query like `/v1/users?x=1`')
    if (s === undefined) ok = false
    else if (!s.value.startsWith('/')) { r.d.error('E0306', s.span, `\`${s.value}\` is not a path`, { label: 'does not start with `/`', hint: 'write the path (and query) the upstream receives, e.g. `/v1/users?x=1`' }); ok = false }
    else e.upstream_path = s.value
  }
  for (const k of ['forwarded', 'headers'] as const) {
    const x = f.get(k)
    if (x === undefined) continue
    const h = headerMap(r, x, true)
    if (h === undefined) ok = false
    else e[k] = h
  }
  if (f.size === 0 && r.entries(ex.value, ex.path, ex.keySpan)?.length === 0) {
    r.d.error('E0104', r.span(ex.value, ex.keySpan), `\`${ex.path}\` checks nothing`, { label: 'an empty expectation always passes', hint: `give at least one of ${EXPECT_KEYS.map(code).join(', ')}` })
    ok = false
  }
  return ok ? e : undefined
}
