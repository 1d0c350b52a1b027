// The one way generated code is written. User text (paths, header names, URLs, names) only ever reaches the
// output as a JSON literal through `lit`; identifiers come from the runtime whitelist or the allocator.
// `new Code(raw)` is the only escape hatch: keep it inside codegen/.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'export', 'extends',
  'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'return', 'super', 'switch', 'this', 'throw', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'enum', 'await', 'implements', 'package', 'protected',
  'interface', 'private', 'public', 'null', 'true', 'false', 'undefined', 'NaN', 'Infinity', 'arguments', 'eval',
])

/** An identifier known to be safe. Throws on anything else: a bug in the generator, never user input. */
export class Name {
  constructor(readonly str: string) {
    if (!IDENT.test(str) || RESERVED.has(str)) throw new Error(`codegen: bad identifier ${JSON.stringify(str)}`)
  }
  toString(): string { return this.str }
}

/** A fragment of generated code. */
export class Code {
  constructor(readonly text: string) {}
  toString(): string { return this.text }
}

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }

/**
 * Any JSON value as a JavaScript literal. JSON.stringify escapes quotes, backslashes and control characters;
 * U+2028/U+2029 (line terminators in older JS grammars) and `<` (so no `</script>` can appear) are escaped too.
 */
export const lit = (v: Json): Code => {
  const check = (x: Json): void => {
    if (typeof x === 'number' && !Number.isFinite(x)) throw new Error('codegen: non-finite number')
    if (Array.isArray(x)) x.forEach(check)
    else if (x !== null && typeof x === 'object') {
      if (Object.getPrototypeOf(x) !== Object.prototype) throw new Error('codegen: only plain objects become literals')
      Object.values(x).forEach(check)
    }
  }
  check(v)
  return new Code(literal(v))
}

const escapeJson = (s: string): string => s.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029').replace(/</g, '\\u003c')

/** JSON text, except that an own `__proto__` key becomes a computed key (in a literal it would set the prototype). */
function literal(v: Json): string {
  if (v === null || typeof v !== 'object') return escapeJson(JSON.stringify(v))
  if (Array.isArray(v)) return '[' + v.map(literal).join(',') + ']'
  return '{' + Object.entries(v).map(([k, x]) => (k === '__proto__' ? `[${escapeJson(JSON.stringify(k))}]` : escapeJson(JSON.stringify(k))) + ':' + literal(x)).join(',') + '}'
}

/** js`…`: Code and Name are spliced as-is; any other value becomes a literal. */
export function js(s: TemplateStringsArray, ...args: (Code | Name | Json)[]): Code {
  let out = s[0]
  args.forEach((a, i) => { out += (a instanceof Code || a instanceof Name ? String(a) : String(lit(a))) + s[i + 1] })
  return new Code(out)
}

/** `obj.key` for a safe identifier key, `obj["key"]` otherwise. */
export const prop = (obj: Code | Name, key: string): Code =>
  IDENT.test(key) && !RESERVED.has(key) ? new Code(`${obj}.${key}`) : new Code(`${obj}[${lit(key)}]`)

/** A `//` comment: every line terminator JavaScript knows is removed, so nothing can end it early. */
export const comment = (text: string): Code =>
  new Code('// ' + text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/\*\//g, '* /').replace(/</g, '\u2039'))

/** Joins fragments with a separator. */
export const join = (parts: (Code | Name)[], sep = ''): Code => new Code(parts.map(String).join(sep))

/** Allocates identifiers: `scope.name('route')` → `route0`, `route1`, … Never derived from user text. */
export class Scope {
  private counts = new Map<string, number>()
  name(prefix: string): Name {
    const n = this.counts.get(prefix) ?? 0
    this.counts.set(prefix, n + 1)
    return new Name(`${prefix}${n}`)
  }
  /** Whether a name with this prefix was handed out. */
  used(prefix: string): boolean { return this.counts.has(prefix) }
}
