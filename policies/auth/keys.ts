// The `keys NAME { … }` declaration: API-key auth. Its keys are SHA-256 hashes in a keys file (never the keys
// themselves), one consumer id each; a request presents its key in a header or a query parameter, and `auth NAME`
// admits it when the key's hash is listed. Syntax, check, print, diff and YAML (`keys:`) of the declaration.
import { dirname, resolve } from 'node:path'
import { NOT_IDENTITY_HEADERS } from '../../config/http.js'
import {
  givenTwice, headerName, keyword, name, printName, quote, spanOf, string, valueChange, writableHeader,
  type A, type CheckContext, type PolicyDeclaration, type StatementSyntax, type YamlEntry, type YamlReader,
} from '../../compiler/policy-api.js'
import type { KeysProviderIR } from './options.js'

export interface FileStmt { kind: 'file'; path: A.StrV; span: A.Span }
/** `redis "HASH"`: the keys' hashes are fields of a Redis hash (values: consumer ids), shared by a fleet. */
export interface RedisStmt { kind: 'redis'; hash: A.StrV; span: A.Span }
/** `header NAME` / `query NAME`: where the key is presented. */
export interface KeyAtStmt { kind: 'header' | 'query'; name: A.NameV; span: A.Span }
export interface ForwardConsumerStmt { kind: 'forward'; header: A.NameV; span: A.Span }
export type KeysStmt = FileStmt | RedisStmt | KeyAtStmt | ForwardConsumerStmt
export type KeysDecl = A.Declaration & { body: KeysStmt[] }

/** Where a key is looked for when the block says nothing. */
export const DEFAULT_KEY_HEADER = 'x-api-key'
/** A query parameter's name as the gateway compares it (unreserved characters: no decoding ambiguity). */
const QUERY_NAME = /^[A-Za-z0-9._~-]{1,64}$/

const STATEMENTS: StatementSyntax[] = [
  { keyword: 'file', pieces: [string('path')], build: (f, span): FileStmt => ({ kind: 'file', path: f.path as A.StrV, span }) },
  { keyword: 'redis', pieces: [string('hash')], build: (f, span): RedisStmt => ({ kind: 'redis', hash: f.hash as A.StrV, span }) },
  { keyword: 'header', pieces: [name('name')], build: (f, span): KeyAtStmt => ({ kind: 'header', name: f.name as A.NameV, span }) },
  { keyword: 'query', pieces: [name('name')], build: (f, span): KeyAtStmt => ({ kind: 'query', name: f.name as A.NameV, span }) },
  { keyword: 'forward', pieces: [keyword('consumer'), keyword('as'), name('header')], build: (f, span): ForwardConsumerStmt => ({ kind: 'forward', header: f.header as A.NameV, span }) },
]


export function checkKeysProvider(ctx: CheckContext, d: KeysDecl): KeysProviderIR {
  const where = `keys \`${d.name.value}\``
  const seen = new Map<string, A.Span>()
  const p: KeysProviderIR = { kind: 'keys', name: d.name.value, store: { kind: 'file', path: '' }, key: { in: 'header', name: DEFAULT_KEY_HEADER }, forwardConsumer: null, source: spanOf(d.span) }
  let at: KeyAtStmt | undefined
  let store: FileStmt | RedisStmt | undefined
  for (const s of d.body) {
    const first = seen.get(s.kind)
    if (first !== undefined) { givenTwice(ctx, s.kind, s.span, first, where); continue }
    seen.set(s.kind, s.span)
    switch (s.kind) {
      case 'redis': {
        if (store !== undefined) { twoStores(ctx, where, store, s); break }
        store = s
        const v = s.hash.value
        if (v === '' || v.length > 256 || /[\s\0]/.test(v)) { ctx.d.error('E0306', s.hash.span, 'the Redis hash must be a key name without white space', { hint: 'e.g. `redis "gwp:keys:partners"`' }); break }
        p.store = { kind: 'redis', hash: v }
        break
      }
      case 'file': {
        if (store !== undefined) { twoStores(ctx, where, store, s); break }
        store = s
        const v = s.path.value
        if (v === '' || v.includes('\n') || v.includes('\0')) { ctx.d.error('E0306', s.path.span, 'the keys file must be a file name', { hint: 'write the path of the file `gwc keys add` writes, e.g. `file "keys.txt"`' }); break }
        // relative to the file that declares it, as `include` is
        p.store = { kind: 'file', path: resolve(dirname(s.path.span.file), v) }
        break
      }
      case 'header': case 'query': {
        if (at !== undefined) {
          ctx.d.error('E0450', s.span, `${where} reads its key from both \`${at.kind}\` and \`${s.kind}\``, {
            label: 'a second place for the key', notes: [{ message: 'first given here', span: at.span }], hint: 'keep one: a request presents its key in one place',
          })
          break
        }
        at = s
        if (s.kind === 'header') {
          const h = writableHeader(ctx, s.name)
          if (h !== undefined) p.key = { in: 'header', name: h }
        } else if (!QUERY_NAME.test(s.name.value)) {
          ctx.d.error('E0306', s.name.span, `\`${s.name.value}\` cannot be a query parameter name here`, { label: 'not a plain name', hint: 'use letters, digits, `.`, `_`, `~` and `-`' })
        } else {
          p.key = { in: 'query', name: s.name.value }
          ctx.d.warn('W0750', s.span, `${where} reads API keys from the query parameter \`${s.name.value}\``, {
            label: 'URLs end up in access logs, proxies and browser history', hint: 'prefer a header (`header X-Api-Key`); the gateway removes the parameter before proxying, but not from logs before it',
          })
        }
        break
      }
      case 'forward': {
        const h = headerName(ctx, s.header)
        if (h === undefined) break
        if (NOT_IDENTITY_HEADERS.has(h)) { ctx.d.error('E0306', s.header.span, `the consumer cannot be forwarded as \`${s.header.value}\``, { label: 'the gateway owns this header', hint: 'forward it as an `X-…` header' }); break }
        p.forwardConsumer = h
        break
      }
    }
  }
  if (store === undefined) ctx.d.error('E0104', d.name.span, `${where} has no \`file\``, { label: 'no keys to check requests against', hint: 'add `file "keys.txt"` and add keys with `gwc keys add keys.txt CONSUMER` (or keep them in Redis: `redis "HASH"`)' })
  if (p.forwardConsumer !== null && p.key.in === 'header' && p.forwardConsumer === p.key.name) {
    ctx.d.error('E0306', d.name.span, `${where} forwards the consumer in the header it reads keys from`, { hint: 'forward the consumer as another header' })
  }
  return p
}

function twoStores(ctx: CheckContext, where: string, first: FileStmt | RedisStmt, again: FileStmt | RedisStmt): void {
  ctx.d.error('E0453', again.span, `${where} keeps its keys in both \`${first.kind}\` and \`${again.kind}\``, {
    label: 'a second store', notes: [{ message: 'first given here', span: first.span }], hint: 'keep one: a keys file for one gateway, a Redis hash for a fleet',
  })
}

function print(s: KeysStmt): string {
  switch (s.kind) {
    case 'file': return `file ${quote(s.path.value)}`
    case 'redis': return `redis ${quote(s.hash.value)}`
    case 'header': case 'query': return `${s.kind} ${printName(s.name)}`
    case 'forward': return `forward consumer as ${printName(s.header)}`
  }
}

/** `keys: { NAME: { file, header | query, forward_consumer } }` → `keys NAME { … }`. */
function readKeys(r: YamlReader, e: YamlEntry): A.Declaration[] {
  const out: A.Declaration[] = []
  for (const k of r.entries(e.value, e.path, e.keySpan) ?? []) {
    const nm = r.declName(k.key, k.keySpan, 'keys provider')
    const f = r.fields(k.value, k.path, ['file', 'redis', 'header', 'query', 'forward_consumer'], k.keySpan)
    if (nm === undefined || f === undefined) continue
    const body: KeysStmt[] = []
    const file = f.get('file')
    if (file !== undefined) { const v = r.str(file.value, file.path, file.keySpan, 'a file name'); if (v) body.push({ kind: 'file', path: v, span: file.keySpan }) }
    const rh = f.get('redis')
    if (rh !== undefined) { const v = r.str(rh.value, rh.path, rh.keySpan, 'a Redis hash name'); if (v) body.push({ kind: 'redis', hash: v, span: rh.keySpan }) }
    for (const at of ['header', 'query'] as const) {
      const x = f.get(at)
      const v = x && r.nameV(x.value, x.path, x.keySpan)
      if (x && v) body.push({ kind: at, name: v, span: x.keySpan })
    }
    const fc = f.get('forward_consumer')
    const h = fc && r.nameV(fc.value, fc.path, fc.keySpan)
    if (fc && h) body.push({ kind: 'forward', header: h, span: fc.keySpan })
    out.push({ kind: 'keys' as unknown as A.DeclKind, name: nm, body, span: k.keySpan, endLine: r.endLine(k.value, k.keySpan.line) })
  }
  return out
}

const storeText = (p: KeysProviderIR): string => (p.store.kind === 'file' ? `file ${p.store.path}` : `redis hash ${p.store.hash}`)

export const keysDeclaration: PolicyDeclaration<KeysProviderIR> = {
  syntax: { keyword: 'keys', what: 'keys provider', statements: STATEMENTS },
  check: (ctx, d) => checkKeysProvider(ctx, d as KeysDecl),
  identityHeaders: p => (p.forwardConsumer === null ? [] : [p.forwardConsumer]),
  print: s => print(s as KeysStmt),
  diff: {
    summary: p => `${p.key.in} ${p.key.name}, ${storeText(p)}`,
    changes: (o, n) => [
      ...valueChange('store', storeText(o), storeText(n)),
      ...valueChange('key', `${o.key.in} ${o.key.name}`, `${n.key.in} ${n.key.name}`),
      ...valueChange('forward consumer', o.forwardConsumer, n.forwardConsumer),
    ],
  },
  yaml: { key: 'keys', read: readKeys },
}
