// Reading the YAML document tree for the YAML policy front end: spans from node ranges (LineCounter), maps
// checked against the keys they allow ("did you mean"), merge keys and aliases, and scalars read as the
// .gwp lexer would read the same text, so the AST matches what the .gwp parser builds. Structural problems
// become diagnostics at YAML positions; nothing here throws on bad input.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml'
import type * as A from '../ast.js'
import type { Diagnostics } from '../diagnostic.js'
import { closest } from '../suggest.js'
import { KEYWORDS, lexer } from '../tokens.js'

export type YNode = Node | null | undefined

/** One `key: value` of a map, with the YAML path used in messages (`routes[0].retries`). */
export interface Entry { key: string; keySpan: A.Span; value: YNode; path: string }

const KEYWORD_TOKENS = new Set(KEYWORDS.map(k => k.name))

/** The .gwp token type `s` lexes to when it is exactly one token, e.g. `HostPort` for `10.0.0.1:80`. */
export function tokenOf(s: string): string | undefined {
  const r = lexer.tokenize(s)
  if (r.errors.length > 0 || r.tokens.length !== 1 || (r.groups.comments?.length ?? 0) > 0) return undefined
  const t = r.tokens[0]
  return t.image === s ? t.tokenType.name : undefined
}
/** A bare .gwp name: an identifier or a (contextual) keyword. */
export const isWord = (s: string): boolean => { const t = tokenOf(s); return t === 'Identifier' || (t !== undefined && KEYWORD_TOKENS.has(t)) }
export const isIdentifier = (s: string): boolean => tokenOf(s) === 'Identifier'

const QTY = /^(\d+(?:\.\d+)?)([A-Za-z%]*)$/

/** A decimal without exponent notation (the .gwp lexer reads no `1e-7`). */
export function decimal(n: number): string {
  const s = String(Number(n.toPrecision(12)))
  return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, '') : s
}

export const where = (path: string): string => (path === '' ? 'the top level' : `\`${path}\``)

export class YamlReader {
  /** `keywords`: the policies' keywords (the core's own are in the lexicon), which are not plain identifiers either. */
  constructor(readonly file: string, readonly text: string, private readonly lc: LineCounter, private readonly doc: Document.Parsed, readonly d: Diagnostics,
    private readonly keywords: ReadonlySet<string> = new Set()) {}

  /** A name the .gwp lexer reads as an identifier, not a keyword (a method, a balance policy, an algorithm). */
  isIdentifier(s: string): boolean { return isIdentifier(s) && !this.keywords.has(s) }

  /** A one-line span from `start` to `end` (cut at the end of the line). */
  spanAt(start: number, end: number): A.Span {
    const { line, col } = this.lc.linePos(start)
    let lineEnd = this.text.indexOf('\n', start)
    if (lineEnd < 0) lineEnd = this.text.length
    if (this.text[lineEnd - 1] === '\r') lineEnd--
    return { file: this.file, line, col, len: Math.max(1, Math.min(end, lineEnd) - start), offset: start }
  }

  span(n: YNode, fallback: A.Span): A.Span {
    const r = n?.range
    return r ? this.spanAt(r[0], r[1]) : fallback
  }

  /** The last line a node covers. */
  endLine(n: YNode, fallback: number): number {
    const r = n?.range
    return r ? this.lc.linePos(Math.max(r[0], r[1] - 1)).line : fallback
  }

  /** Aliases (`*name`) read as the node they point to; spans then point at the anchor. */
  resolve(n: YNode): YNode {
    let x = n
    for (let i = 0; i < 32 && x && isAlias(x); i++) x = x.resolve(this.doc) as YNode
    return x && isAlias(x) ? undefined : x
  }

  describe(n: YNode): string {
    const x = this.resolve(n)
    if (!x || (isScalar(x) && x.value === null)) return 'nothing'
    if (isMap(x)) return 'a map'
    if (isSeq(x)) return 'a list'
    if (isScalar(x)) return typeof x.value === 'number' ? `the number \`${this.scalarText(x)}\`` : typeof x.value === 'boolean' ? `\`${x.value}\`` : 'a string'
    return 'something else'
  }

  /**
   * An alias no anchor defines: YAML reads unquoted text starting with `*` (`host: *.acme.test`) as an
   * alias, which then resolves to nothing. Reported as what it is, with the quoting that was meant.
   */
  private danglingAlias(n: YNode, at: A.Span): boolean {
    if (!n || !isAlias(n) || this.resolve(n) !== undefined) return false
    const text = `*${n.source}`
    this.d.error('E0301', this.span(n, at), `\`${text}\` is read by YAML as an alias, and no anchor \`&${n.source}\` is defined`, {
      label: 'an unquoted `*` starts a YAML alias',
      // `*.acme.test` is a wildcard host, never an alias name anyone meant; `*limits` may have been one
      hint: n.source.startsWith('.') ? `quote it: \`"${text}"\`` : `quote it: \`"${text}"\`, or define the anchor \`&${n.source}\` if an alias was meant`,
    })
    return true
  }

  /** E0301: the value at `path` has the wrong shape. */
  wrong(n: YNode, path: string, expected: string, at: A.Span, hint?: string): void {
    if (this.danglingAlias(n, at)) return
    this.d.error('E0301', this.span(n, at), `${where(path)} takes ${expected}, got ${this.describe(n)}`, { label: `expected ${expected}`, ...(hint ? { hint } : {}) })
  }

  toJS(n: YNode): unknown { const x = this.resolve(n); return x ? x.toJS(this.doc) : null }

  /** A map's entries in order, merge keys (`<<: *base`) expanded (keys written in the map win). */
  entries(n: YNode, path: string, at: A.Span): Entry[] | undefined {
    const m = this.resolve(n)
    if (!m || !isMap(m)) { this.wrong(n, path, 'a map', at); return undefined }
    const own: Entry[] = [], merged: Entry[] = []
    for (const p of m.items) {
      const k = this.resolve(p.key as YNode)
      const keySpan = this.span(k, this.span(m, at))
      if (!k || !isScalar(k) || k.value === null || typeof k.value === 'object') {
        this.d.error('E0301', keySpan, `keys in ${where(path)} must be plain names`, { label: 'not a name' })
        continue
      }
      const key = String(k.value)
      if (key === '<<') {
        const v = this.resolve(p.value as YNode)
        const sources = v && isSeq(v) ? v.items as YNode[] : [p.value as YNode]
        for (const s of sources) merged.push(...(this.entries(s, path, keySpan) ?? []))
        continue
      }
      own.push({ key, keySpan, value: p.value as YNode, path: path === '' ? key : `${path}.${key}` })
    }
    return [...own, ...merged.filter(e => !own.some(o => o.key === e.key))]
  }

  /**
   * A map whose keys must come from `keys`: unknown keys get E0205 with a "did you mean", repeated keys
   * E0102. Returns the entries by key, in the order written.
   */
  fields(n: YNode, path: string, keys: readonly string[], at: A.Span, ignore?: (key: string) => boolean): Map<string, Entry> | undefined {
    const es = this.entries(n, path, at)
    if (es === undefined) return undefined
    const out = new Map<string, Entry>()
    for (const e of es) {
      if (ignore?.(e.key)) continue
      if (!keys.includes(e.key)) {
        const guess = closest(e.key, keys)
        this.d.error('E0205', e.keySpan, `unknown key \`${e.key}\` in ${where(path)}`, {
          label: 'not a key here', hint: guess ? `did you mean \`${guess}\`?` : `${where(path)} takes ${keys.map(k => '`' + k + '`').join(', ')}`,
        })
        continue
      }
      const first = out.get(e.key)
      if (first !== undefined) {
        this.d.error('E0102', e.keySpan, `\`${e.key}\` is given twice in ${where(path)}`, { label: 'given again here', notes: [{ message: 'first given here', span: first.keySpan }], hint: 'keep one of them' })
        continue
      }
      out.set(e.key, e)
    }
    return out
  }

  /** A list's items; a single non-list value counts as a list of one when `single` is set. */
  list(e: Entry, what: string, single = true): { node: YNode; path: string }[] | undefined {
    const v = this.resolve(e.value)
    if (v && isSeq(v)) return v.items.map((x, i) => ({ node: x as YNode, path: `${e.path}[${i}]` }))
    if (single && v && isScalar(v) && v.value !== null) return [{ node: v, path: e.path }]
    this.wrong(e.value, e.path, what, e.keySpan)
    return undefined
  }

  /** A scalar's text: strings as they read, numbers and booleans as written. Undefined for anything else. */
  scalarText(n: YNode): string | undefined {
    const x = this.resolve(n)
    if (!x || !isScalar(x) || x.value === null || typeof x.value === 'object') return undefined
    return typeof x.value === 'string' ? x.value : typeof x.source === 'string' && !/^["']/.test(x.source) ? x.source : String(x.value)
  }

  isList(n: YNode): boolean { const x = this.resolve(n); return !!x && isSeq(x) }

  isNumber(n: YNode): boolean { const x = this.resolve(n); return !!x && isScalar(x) && typeof x.value === 'number' }

  bool(n: YNode, path: string, at: A.Span): boolean | undefined {
    const x = this.resolve(n)
    if (x && isScalar(x) && typeof x.value === 'boolean') return x.value
    this.wrong(n, path, '`true` or `false`', at)
    return undefined
  }

  str(n: YNode, path: string, at: A.Span, what = 'a string'): A.StrV | undefined {
    const s = this.scalarText(n)
    if (s === undefined) { this.wrong(n, path, what, at); return undefined }
    return { kind: 'str', value: s, span: this.span(n, at) }
  }

  /** A name that .gwp writes bare when it can (`X-User-Id`) and quoted otherwise, as its parser reads it. */
  nameV(n: YNode, path: string, at: A.Span): A.NameV | undefined {
    const s = this.str(n, path, at, 'a name')
    if (s === undefined) return undefined
    return isWord(s.value) ? { kind: 'word', value: s.value, span: s.span } : s
  }

  /** A declaration name (upstream, jwt provider, route): must be a bare .gwp name. */
  declName(text: string, span: A.Span, what: string): A.WordV | undefined {
    if (isWord(text)) return { kind: 'word', value: text, span }
    this.d.error('E0306', span, `\`${text}\` is not a valid ${what} name`, { label: 'not a name', hint: 'names use letters, digits, `_` and `-`, and start with a letter or `_`' })
    return undefined
  }

  /**
   * A number with an optional unit, as the .gwp lexer reads it (`800ms`, `10%`, `3`). `ratio` reads a
   * unitless number as a fraction (0.5 → 50%), `percent` as a percentage (90 → 90%). Units are typed by
   * the checker, so `timeout: 5` gets the same "no unit" error as in .gwp.
   */
  qty(n: YNode, path: string, at: A.Span, as: 'plain' | 'ratio' | 'percent' = 'plain'): A.QtyV | undefined {
    const text = this.scalarText(n)
    const span = this.span(n, at)
    const m = text === undefined ? null : QTY.exec(text)
    if (text === undefined && this.danglingAlias(n, at)) return undefined
    if (text === undefined || m === null) {
      this.d.error('E0301', span, `${where(path)} takes a number${as === 'plain' ? ' with its unit' : ' or a percentage'}, got ${text === undefined ? this.describe(n) : `\`${text}\``}`, {
        label: 'not a quantity', hint: as === 'plain' ? 'write it like `800ms`, `10MB` or `3`, without spaces' : 'write a percentage like `50%`',
      })
      return undefined
    }
    if (m[2] === '' && as !== 'plain' && this.isNumber(n)) {
      const num = Number(decimal(as === 'ratio' ? Number(m[1]) * 100 : Number(m[1])))
      return { kind: 'qty', raw: `${decimal(num)}%`, num, unit: '%', span }
    }
    return { kind: 'qty', raw: text, num: Number(m[1]), unit: m[2], span }
  }

  /** An option of a .gwp option list, named as .gwp names it but spanning the YAML key. */
  option(name: string, keySpan: A.Span, values: A.Value[] = []): A.OptionAst {
    return { name: { kind: 'word', value: name, span: keySpan }, values, span: keySpan }
  }
}

/** The name of `Entry` that policies' YAML mappings see (compiler/policy-api.ts). */
export type YamlEntry = Entry
export type YamlNode = YNode

/** A header or claim name as the .gwp parser would read it: bare when it lexes as a name, else a string. */
export const yamlName = (key: string, span: A.Span): A.NameV => (isWord(key) ? { kind: 'word', value: key, span } : { kind: 'str', value: key, span })
