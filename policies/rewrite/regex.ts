// The regular-expression subset `rewrite regex` accepts, checked at compile time. JavaScript's engine
// backtracks, so the subset keeps out what makes backtracking blow up or what RE2 has no linear-time answer for:
// backreferences, lookaround, and a repeated group that itself repeats or branches (`(a+)+`, `(a|aa)*`).
// Everything accepted means the same in RE2 and in JavaScript (no flags).

/** A problem at `at` (a character offset in the pattern), `len` characters long. */
export interface RegexProblem { at: number; len: number; message: string; hint: string; refused: boolean }
/** A pattern of the subset: how many capture groups it has. */
export interface RegexInfo { groups: number }

/** Largest bound of a counted repetition `{n,m}`. */
export const MAX_REPEAT = 1000

const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S'])
const CONTROL_ESCAPES = new Set(['n', 'r', 't', 'f', 'v'])
/** Characters that must be escaped to be literal (and may be). */
const SPECIAL = new Set(['\\', '.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '/', '-'])

interface Node { quantified: boolean; branches: boolean }

class Parser {
  i = 0
  groups = 0
  constructor(readonly src: string) {}

  fail(at: number, len: number, message: string, hint: string, refused = false): never {
    throw Object.assign(new Error(message), { problem: { at, len: Math.max(1, len), message, hint, refused } })
  }

  /** alt := seq ('|' seq)*; returns whether it contains a quantifier or a branch. */
  alt(): Node {
    const n = this.seq()
    while (this.src[this.i] === '|') { this.i++; const m = this.seq(); n.quantified ||= m.quantified; n.branches = true }
    return n
  }

  seq(): Node {
    const n: Node = { quantified: false, branches: false }
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const start = this.i
      const atom = this.atom()
      const q = this.quantifier(atom.anchor)
      if (q === null) { n.quantified ||= atom.inner.quantified; n.branches ||= atom.inner.branches; continue }
      if (q.max > 1 && (atom.inner.quantified || atom.inner.branches)) {
        this.fail(start, this.i - start, atom.inner.quantified ? 'a repeated group repeats inside (nested quantifiers)' : 'a repeated group has alternatives inside',
          atom.inner.quantified ? 'nested quantifiers backtrack exponentially; repeat one thing, e.g. `[a-z0-9]+` instead of `([a-z]+[0-9]*)+`'
            : 'alternatives under a repetition can backtrack exponentially; use a character class, e.g. `[ab]+` instead of `(a|b)+`', true)
      }
      n.quantified = true
      n.branches ||= atom.inner.branches
    }
    return n
  }

  atom(): { inner: Node; anchor: boolean } {
    const s = this.src, c = s[this.i]
    const plain: Node = { quantified: false, branches: false }
    if (c === '(') {
      const open = this.i
      this.i++
      if (s[this.i] === '?') {
        const kind = s.slice(this.i, this.i + 3)
        if (kind.startsWith('?:')) this.i += 2
        else if (kind.startsWith('?=') || kind.startsWith('?!') || kind === '?<=' || kind === '?<!') {
          this.fail(open, kind.startsWith('?<') ? 4 : 3, 'lookaround is not supported', 'match the text itself, or match more of the path and capture the part you need', true)
        } else this.fail(open, 2, 'named and flagged groups are not supported', 'use a plain group `( … )` and refer to it as `$1`')
      } else this.groups++
      const inner = this.alt()
      if (s[this.i] !== ')') this.fail(open, 1, 'unclosed group', 'add the missing `)`')
      this.i++
      return { inner, anchor: false }
    }
    if (c === ')') this.fail(this.i, 1, 'unmatched `)`', 'remove it, or escape it as `\\)`')
    if (c === '[') { this.klass(); return { inner: plain, anchor: false } }
    if (c === '^' || c === '$') { this.i++; return { inner: plain, anchor: true } }
    if (c === '*' || c === '+' || c === '?') this.fail(this.i, 1, `\`${c}\` has nothing to repeat`, 'put it after a character, class or group, or escape it')
    if (c === '{') this.fail(this.i, 1, '`{` has nothing to repeat', 'escape a literal brace as `\\{`')
    if (c === '}' || c === ']') this.fail(this.i, 1, `unmatched \`${c}\``, `escape it as \`\\${c}\``)
    if (c === '\\') { this.escape(false); return { inner: plain, anchor: false } }
    this.i++
    return { inner: plain, anchor: false }
  }

  /** `\x`: a class escape, a control escape, `\xHH`, or an escaped special character. */
  escape(inClass: boolean): void {
    const at = this.i, e = this.src[this.i + 1]
    if (e === undefined) this.fail(at, 1, 'the pattern ends with `\\`', 'escape a literal backslash as `\\\\`')
    if (/[1-9]/.test(e) || e === 'k') this.fail(at, 2, 'backreferences are not supported', 'backreferences make matching exponential; match the text itself', true)
    if (!inClass && (e === 'b' || e === 'B')) { this.i += 2; return }
    if (CLASS_ESCAPES.has(e) || CONTROL_ESCAPES.has(e) || SPECIAL.has(e)) { this.i += 2; return }
    if (e === 'x' && /^[0-9A-Fa-f]{2}$/.test(this.src.slice(at + 2, at + 4))) { this.i += 4; return }
    this.fail(at, 2, `unknown escape \`\\${e}\``, 'escape only special characters (`\\.` `\\/` `\\(` …); use `\\d` `\\w` `\\s` for classes')
  }

  klass(): void {
    const open = this.i
    this.i++
    if (this.src[this.i] === '^') this.i++
    const first = this.i
    while (this.i < this.src.length && this.src[this.i] !== ']') {
      if (this.src[this.i] === '[') this.fail(this.i, 1, 'a `[` inside a class', 'escape it as `\\[`')
      if (this.src[this.i] === '\\') this.escape(true)
      else this.i++
    }
    if (this.src[this.i] !== ']') this.fail(open, 1, 'unclosed character class', 'add the missing `]`')
    if (this.i === first) this.fail(open, this.i - open + 1, 'an empty character class', 'list at least one character, e.g. `[a-z]`')
    this.i++
  }

  quantifier(anchor: boolean): { max: number } | null {
    const s = this.src, at = this.i, c = s[at]
    let max: number
    if (c === '*' || c === '+') { max = Infinity; this.i++ }
    else if (c === '?') { max = 1; this.i++ }
    else if (c === '{') {
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(s.slice(at))
      if (m === null) this.fail(at, 1, 'a malformed repetition', 'write `{n}`, `{n,}` or `{n,m}`, or escape a literal brace as `\\{`')
      const lo = Number(m[1]), hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3])
      if (hi < lo) this.fail(at, m[0].length, `the repetition's bounds are reversed (${lo} > ${hi})`, 'write the smaller bound first')
      if (lo > MAX_REPEAT || (hi !== Infinity && hi > MAX_REPEAT)) this.fail(at, m[0].length, `a repetition bound above ${MAX_REPEAT}`, `keep bounds at most ${MAX_REPEAT}, or use \`+\``)
      max = hi
      this.i += m[0].length
    } else return null
    if (anchor) this.fail(at, this.i - at, 'an anchor cannot be repeated', 'remove the quantifier')
    if (s[this.i] === '?') this.i++ // lazy
    const d = s[this.i]
    if (d === '*' || d === '+' || d === '?' || d === '{') this.fail(this.i, 1, `\`${d}\` has nothing to repeat`, 'a quantifier cannot follow a quantifier')
    return { max }
  }
}

/** Checks `src` against the subset: its group count, or the first problem (with its position in `src`). */
export function checkRegex(src: string): RegexInfo | RegexProblem {
  if (src === '') return { at: 0, len: 1, message: 'the pattern is empty', hint: 'write a pattern, e.g. `^/users/([0-9]+)$`', refused: false }
  const ctl = /[\x00-\x1f\x7f]/.exec(src)
  if (ctl !== null) return { at: ctl.index, len: 1, message: 'the pattern contains a control character', hint: 'write `\\n`, `\\t` … instead', refused: false }
  const p = new Parser(src)
  try {
    p.alt()
    if (p.i < src.length) p.fail(p.i, 1, 'unmatched `)`', 'remove it, or escape it as `\\)`')
    new RegExp(src) // the subset is JavaScript too; a disagreement would be a bug here, reported as a problem
  } catch (e) {
    const problem = (e as { problem?: RegexProblem }).problem
    if (problem !== undefined) return problem
    return { at: 0, len: src.length, message: `not a valid pattern: ${(e as Error).message}`, hint: 'see the subset in docs/language.md', refused: false }
  }
  return { groups: p.groups }
}

export const isProblem = (x: RegexInfo | RegexProblem): x is RegexProblem => 'message' in x
