// The string literals of TypeScript source, outside comments: what a source file says in code. A small scanner
// (the TypeScript 7 compiler has no JS API to ask): comments, quoted strings, templates (with `${…}` nesting)
// and regex literals (told from division by what precedes the `/`) are skipped or read as the language does.

/** One whole quoted literal (`'…'` or `"…"`, or a template without `${…}`) as written between its quotes, with its line. */
export interface Literal { text: string; line: number }

const REGEX_AFTER = /[(,=:[!&|?{};+\-*%<>~^]$|(?:^|[^\w$])(?:return|typeof|case|of|in|void|delete|throw|new)$|^$/

export function stringLiterals(src: string): Literal[] {
  const out: Literal[] = []
  let i = 0, line = 1, code = ''    // `code`: the significant text since the last literal, to tell a regex from `/`
  const braces: number[] = []       // template nesting: the brace depth at which each `${` resumes its template
  let depth = 0
  const readTemplate = (): void => { // at the character after a backtick or a `}` closing `${`
    const start = i, startLine = line
    let plain = true
    while (i < src.length) {
      const c = src[i]
      if (c === '\\') { i += 2; continue }
      if (c === '\n') line++
      if (c === '`') { if (plain && src[start - 1] === '`') out.push({ text: src.slice(start, i), line: startLine }); i++; code = 'x'; return }
      if (c === '$' && src[i + 1] === '{') { plain = false; braces.push(depth); depth++; i += 2; code = '('; return }
      i++
    }
  }
  while (i < src.length) {
    const c = src[i]
    if (c === '\n') { line++; i++; continue }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue }
    if (c === '/' && src[i + 1] === '/') { while (i < src.length && src[i] !== '\n') i++; continue }
    if (c === '/' && src[i + 1] === '*') { const end = src.indexOf('*/', i + 2); for (const ch of src.slice(i, end)) if (ch === '\n') line++; i = end + 2; continue }
    if (c === "'" || c === '"') {
      const start = ++i
      while (i < src.length && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1
      out.push({ text: src.slice(start, i), line }); i++; code = 'x'; continue
    }
    if (c === '`') { i++; readTemplate(); continue }
    if (c === '{') { depth++; i++; code = '{'; continue }
    if (c === '}') {
      depth--; i++
      if (braces.length > 0 && braces[braces.length - 1] === depth) { braces.pop(); readTemplate() } else code = '}'
      continue
    }
    if (c === '/' && REGEX_AFTER.test(code.trimEnd())) {
      i++
      let cls = false
      while (i < src.length && src[i] !== '\n' && (cls || src[i] !== '/')) { if (src[i] === '\\') i++; else if (src[i] === '[') cls = true; else if (src[i] === ']') cls = false; i++ }
      i++; code = 'x'; continue
    }
    code = (code + c).slice(-8); i++
  }
  return out
}
