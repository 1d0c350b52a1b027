// test/compiler/fmt.test.ts: `gwc fmt` — canonical layout, fmt(fmt(x)) == fmt(x), the formatted text means the
// same (equal AST shape and equal IR), comments survive, refusals leave files untouched, and the CLI's
// print/--write/--check modes and exit codes. Messy inputs are generated from every example and golden
// file by re-laying their tokens out at random (seeded): odd spacing, `;` for newlines, blank lines, and
// comments added at line ends and on lines of their own.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { astShape, formatSource, runFmt } from '../../compiler/tools/fmt.js'
import { quote } from '../../compiler/tools/print.js'
import { parseFile } from '../../compiler/parse.js'
import { lexer } from '../../grammar/tokens.js'
import { repoPath } from '../helpers/paths.js'
import { prng } from '../helpers/prng.js'


/** A policy set: every .gwp file of an example or golden case, so includes resolve in memory. */
interface Case { name: string; entry: string; files: Record<string, string> }

function corpus(): Case[] {
  const out: Case[] = []
  for (const f of readdirSync(repoPath('examples')).filter(x => x.endsWith('.gwp')).sort()) {
    out.push({ name: `examples/${f}`, entry: f, files: { [f]: readFileSync(repoPath('examples', f), 'utf8') } })
  }
  const walk = (dir: string, name: string) => {
    for (const c of readdirSync(dir).sort()) {
      const p = join(dir, c)
      if (!statSync(p).isDirectory()) continue
      if (existsSync(join(p, 'input.gwp'))) {
        const files: Record<string, string> = {}
        for (const f of readdirSync(p).filter(x => x.endsWith('.gwp'))) files[f] = readFileSync(join(p, f), 'utf8')
        out.push({ name: `${name}/${c}`, entry: 'input.gwp', files })
      } else walk(p, `${name}/${c}`)
    }
  }
  walk(repoPath('test/golden'), 'golden')
  return out
}

const CASES = corpus()
const parsesClean = (text: string): boolean => parseFile(text, 'x.gwp').diagnostics.errorCount === 0
const withoutSource = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'source' ? undefined : v)))
const comments = (text: string): string[] => parseFile(text, 'x.gwp').ast.comments.map(c => c.text.trimEnd()).sort()

/**
 * The same tokens laid out at random: spaces and tabs between tokens, random indents, extra blank lines,
 * newlines turned into `;`, and new comments at line ends and on lines of their own. Newlines that a
 * statement needs (the one after a `,` in a `forward` list) and those ending a comment are kept.
 */
function mess(text: string, rnd: () => number, tag: string): string {
  const lexed = lexer.tokenize(text)
  const toks = [...lexed.tokens, ...(lexed.groups.comments ?? [])].sort((a, b) => a.startOffset - b.startOffset)
  let out = '', n = 0, prev: string | undefined, lineHasComment = false
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  for (const t of toks) {
    const type = t.tokenType.name
    if (type === 'Newline') {
      const joinable = prev !== 'Comma' && prev !== undefined && !lineHasComment
      if (!lineHasComment && prev !== undefined && rnd() < 0.25) out += ` # ${tag}-t${n++}`
      else if (joinable && rnd() < 0.3) { out += pick([';', ' ;', '; ']); prev = 'Semi'; continue }
      out += '\n'
      if (prev !== 'Comma') {
        if (rnd() < 0.2) out += '\n'.repeat(1 + Math.floor(rnd() * 3))
        if (rnd() < 0.2) out += `${' '.repeat(Math.floor(rnd() * 5))}# ${tag}-l${n++}\n`
      }
      out += pick(['', ' ', '  ', '\t', '      '])
      lineHasComment = false
      prev = type
      continue
    }
    if (type === 'Comment') { out += ' ' + t.image; lineHasComment = true; continue }
    if (prev !== undefined && prev !== 'Newline') out += pick([' ', ' ', '  ', '\t', '   '])
    out += t.image
    prev = type
  }
  return out
}

test('every example and golden file formats idempotently, or is refused with errors', () => {
  let formatted = 0
  for (const c of CASES) {
    for (const [f, text] of Object.entries(c.files)) {
      const r = formatSource(text, f)
      if (r.formatted === undefined) { assert.ok(r.diagnostics.some(d => d.severity === 'error'), `${c.name}/${f} refused without an error`); continue }
      formatted++
      assert.equal(formatSource(r.formatted, f).formatted, r.formatted, `${c.name}/${f}: fmt(fmt(x)) != fmt(x)`)
      assert.deepEqual(astShape(parseFile(r.formatted, f).ast), astShape(parseFile(text, f).ast), `${c.name}/${f}: meaning changed`)
      assert.deepEqual(comments(r.formatted), comments(text), `${c.name}/${f}: comments changed`)
    }
  }
  assert.ok(formatted > 50, `only ${formatted} files formatted`)
})

test('examples/shop.gwp is already formatted except for its aligned comments and one-line policy', () => {
  const text = readFileSync(repoPath('examples/shop.gwp'), 'utf8')
  const out = formatSource(text, 'shop.gwp').formatted!
  // Exactly two kinds of change, everything else byte for byte: a line-end comment gets two spaces before
  // its `#` (the file aligns them with more), and the one-line policy is expanded.
  const oneLine = 'policy public_api { ratelimit by ip 1000 per 1s; timeout 300ms }\n'
  assert.ok(text.includes(oneLine))
  const expected = text
    .replace(/(\S) {3,}#/g, '$1  #')
    .replace(oneLine, 'policy public_api {\n  ratelimit by ip 1000 per 1s\n  timeout 300ms\n}\n')
  assert.match(text, /\S {3,}#/, 'the example still has aligned comments to rewrite')
  assert.equal(out, expected)
})

test('messy layouts of every source format to the same text, AST, comments and IR', () => {
  const rnd = prng(0x676663)
  let checked = 0
  for (const c of CASES) {
    const original = Object.fromEntries(Object.entries(c.files).map(([f, t]) => [f, formatSource(t, f)]))
    if (Object.values(original).some(r => r.formatted === undefined)) continue
    const before = compile([c.entry], { host: memoryHost(c.files) })
    for (let v = 0; v < 3; v++) {
      const messy: Record<string, string> = {}
      const formatted: Record<string, string> = {}
      for (const [f, text] of Object.entries(c.files)) {
        messy[f] = mess(text, rnd, `${v}`)
        assert.ok(parsesClean(messy[f]), `${c.name}/${f} variant ${v} does not parse (test generator bug):\n${messy[f]}`)
        const r = formatSource(messy[f], f)
        assert.ok(r.formatted !== undefined, `${c.name}/${f} variant ${v} refused`)
        formatted[f] = r.formatted
        assert.equal(formatSource(r.formatted, f).formatted, r.formatted, `${c.name}/${f} variant ${v}: not idempotent\n${messy[f]}`)
        assert.deepEqual(astShape(parseFile(r.formatted, f).ast), astShape(parseFile(text, f).ast), `${c.name}/${f} variant ${v}: meaning changed`)
        assert.deepEqual(comments(r.formatted), comments(messy[f]), `${c.name}/${f} variant ${v}: comments changed`)
        // Comments aside, a messy file formats to exactly what its tidy original formats to.
        const strip = (s: string) => s.split('\n').map(l => l.replace(/\s*#.*$/, '')).filter(l => l.trim() !== '').join('\n')
        assert.equal(strip(r.formatted), strip(original[f].formatted!), `${c.name}/${f} variant ${v}: layout differs`)
      }
      const after = compile([c.entry], { host: memoryHost(formatted) })
      assert.equal(after.errors, before.errors, `${c.name} variant ${v}: error count changed`)
      assert.deepEqual(after.diagnostics.map(d => d.code), before.diagnostics.map(d => d.code), `${c.name} variant ${v}: diagnostics changed`)
      if (before.ir !== undefined) assert.deepEqual(withoutSource(after.ir), withoutSource(before.ir), `${c.name} variant ${v}: IR changed`)
      checked++
    }
  }
  assert.ok(checked > 100, `only ${checked} variants checked`)
})

test('random token edits that still parse format idempotently, keeping meaning and comments', () => {
  const rnd = prng(0x746f6b)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  const sources = CASES.flatMap(c => Object.values(c.files)).filter(parsesClean)
  const pool = ['health', 'set', 'header', 'json', '"a\\"b"', '"#"', '10%', '1.5s', '10.0.0.1:80', 'X-Y', ',', ';', '\n', '# c', 'claim', 'as', 'fallback', 'respond', '200']
  let formatted = 0
  for (let i = 0; i < 600; i++) {
    const text = pick(sources)
    const toks = lexer.tokenize(text).tokens
    const t = pick(toks)
    const edit = pick([pick(pool), '', t.image + ' ' + t.image, pick(toks).image])
    const edited = text.slice(0, t.startOffset) + edit + text.slice(t.startOffset + t.image.length)
    if (!parsesClean(edited)) continue
    const r = formatSource(edited, 'x.gwp')
    if (r.formatted === undefined) continue // refused: text the AST keeps once
    formatted++
    assert.equal(formatSource(r.formatted, 'x.gwp').formatted, r.formatted, `edit ${i}: not idempotent\n${edited}`)
    assert.deepEqual(astShape(parseFile(r.formatted, 'x.gwp').ast), astShape(parseFile(edited, 'x.gwp').ast), `edit ${i}`)
    assert.deepEqual(comments(r.formatted), comments(edited), `edit ${i}`)
  }
  assert.ok(formatted > 100, `only ${formatted} edits parsed`)
})

test('canonical layout: indent, expanded blocks, `exact` written away, quantities and names as written', () => {
  const src = [
    'upstream   up {replicas 10.0.0.1:80,10.0.0.2:80 "[::1]:81";balance random}',
    'route r { match host "a.example.com", "b.example.com" path exact "/x" method GET, POST header "X-A" "1"',
    '  headers response set X-B "v",remove Server X-Powered-By ; retry 1 budget 10% per_try 800ms',
    '  proxy up 100% fallback 503 json "{}" }',
    'route p { match path prefix "/p"; ratelimit by header X-Key 5 per 1s burst 2; respond 204 }',
  ].join('\n')
  assert.equal(formatSource(src, 'x.gwp').formatted, [
    'upstream up {',
    '  replicas 10.0.0.1:80 10.0.0.2:80 "[::1]:81"',
    '  balance random',
    '}',
    '',
    'route r {',
    '  match host "a.example.com" "b.example.com" path "/x" method GET POST header "X-A" "1"',
    '  headers response set X-B "v", remove Server X-Powered-By',
    '  retry 1 budget 10% per_try 800ms',
    '  proxy up 100% fallback respond 503 json "{}"',
    '}',
    '',
    'route p {',
    '  match path prefix "/p"',
    '  ratelimit by header X-Key 5 per 1s burst 2',
    '  respond 204',
    '}',
    '',
  ].join('\n'))
})

test('comments stay where they were: above their statement, at its line end, at the end of a block or file', () => {
  const src = [
    '# file header',
    '',
    '# about x',
    'upstream x {   # x header',
    '  replicas 10.0.0.1:80 # the only one',
    '',
    '',
    '  # balancing',
    '  balance random',
    '  # end of x',
    '}    # after x',
    'jwt j { issuer "https://i/"; jwks "https://i/k" refresh 5m',
    '  forward claim sub as X-User, # first claim',
    '    claim tid as X-Tenant # second claim',
    '}',
    '# the end',
    '',
  ].join('\n')
  assert.equal(formatSource(src, 'x.gwp').formatted, [
    '# file header',
    '',
    '# about x',
    'upstream x {  # x header',
    '  replicas 10.0.0.1:80  # the only one',
    '',
    '  # balancing',
    '  balance random',
    '  # end of x',
    '}  # after x',
    '',
    'jwt j {',
    '  issuer "https://i/"',
    '  jwks "https://i/k" refresh 5m',
    '  # first claim',
    '  forward claim sub as X-User, claim tid as X-Tenant  # second claim',
    '}',
    '# the end',
    '',
  ].join('\n'))
})

test('strings are re-escaped so they read back to the same value', () => {
  const rnd = prng(7)
  const alphabet = ['a', ' ', '"', '\\', '\n', '\t', '\r', '\u0000', '\u001f', '\u007f', '\u0085', 'é', '€', '😀', '\u2028', '\ud800', '\udfff', '#', '{', '}', ';']
  for (let i = 0; i < 300; i++) {
    const s = Array.from({ length: Math.floor(rnd() * 12) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('')
    const q = quote(s)
    assert.doesNotMatch(q, /[\n\r\t\u0000-\u001f\u2028\u2029]/, 'a quoted string is one visible line')
    const { ast, diagnostics } = parseFile(`include ${q}`, 'x.gwp')
    assert.equal(diagnostics.errorCount, 0, q)
    assert.equal((ast.decls[0] as { path: { value: string } }).path.value, s)
  }
  assert.equal(quote('a"b\\c\nd\te\u0001'), '"a\\"b\\\\c\\nd\\te\\u{01}"')
})

test('files with syntax errors, or text the AST keeps once, are refused with diagnostics', () => {
  const broken = formatSource('route x {\n  match path "/a\n  respond 200\n}\n', 'x.gwp')
  assert.equal(broken.formatted, undefined)
  assert.deepEqual(broken.diagnostics.map(d => [d.code, d.line]), [['E0003', 2]])
  const twice = formatSource('route x {\n  match path "/a" path "/b"\n  respond 200\n}\n', 'x.gwp')
  assert.equal(twice.formatted, undefined)
  assert.deepEqual(twice.diagnostics.map(d => [d.code, d.line, d.col]), [['E0102', 2, 19]])
})

// ── the command ─────────────────────────────────────────────────────────────────────────────────

const dir = mkdtempSync(join(tmpdir(), 'gwc-fmt-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const GWC = repoPath('dist/bin/gwc.js')
const TIDY = 'route a {\n  match path "/a"\n  respond 200\n}\n'
const UNTIDY = 'route a { match path "/a"; respond 200 }\n'
const BROKEN = 'route a { match path "/a"\n'

test('--check lists unformatted files and exits 1; --write rewrites them; broken files stay untouched', () => {
  const sub = join(dir, 'policies')
  for (const [f, t] of [['tidy.gwp', TIDY], ['untidy.gwp', UNTIDY], ['nested/deep.gwp', UNTIDY]] as const) {
    const p = join(sub, f)
    spawnSync('mkdir', ['-p', join(p, '..')])
    writeFileSync(p, t)
  }
  const check = runFmt([sub], 'check')
  assert.equal(check.code, 1)
  assert.deepEqual(check.out.trim().split('\n'), [join(sub, 'nested/deep.gwp'), join(sub, 'untidy.gwp')])
  const write = runFmt([sub], 'write')
  assert.equal(write.code, 0)
  assert.equal(readFileSync(join(sub, 'untidy.gwp'), 'utf8'), TIDY)
  assert.equal(readFileSync(join(sub, 'nested/deep.gwp'), 'utf8'), TIDY)
  assert.deepEqual(runFmt([sub], 'check'), { code: 0, out: '', err: '' })

  const bad = join(dir, 'broken.gwp')
  writeFileSync(bad, BROKEN)
  const r = runFmt([bad, join(sub, 'tidy.gwp')], 'write')
  assert.equal(r.code, 1)
  assert.match(r.err, /error\[E0002\]/)
  assert.equal(readFileSync(bad, 'utf8'), BROKEN)
})

test('gwc fmt prints one file, reads stdin, and uses exit codes 0, 1 and 2', () => {
  const p = join(dir, 'one.gwp')
  writeFileSync(p, UNTIDY)
  const one = spawnSync(process.execPath, [GWC, 'fmt', p], { encoding: 'utf8' })
  assert.equal(one.status, 0, one.stderr)
  assert.equal(one.stdout, TIDY)
  assert.equal(readFileSync(p, 'utf8'), UNTIDY, 'printing never writes')
  const stdin = spawnSync(process.execPath, [GWC, 'fmt', '-'], { input: UNTIDY, encoding: 'utf8' })
  assert.equal(stdin.stdout, TIDY)
  const broken = spawnSync(process.execPath, [GWC, 'fmt', '--format', 'json', '-'], { input: BROKEN, encoding: 'utf8' })
  assert.equal(broken.status, 1)
  assert.equal(broken.stdout, '')
  assert.equal(JSON.parse(broken.stderr)[0].code, 'E0002')
  const check = spawnSync(process.execPath, [GWC, 'fmt', '--check', p], { encoding: 'utf8' })
  assert.equal(check.status, 1)
  assert.equal(check.stdout, p + '\n')
  assert.equal(spawnSync(process.execPath, [GWC, 'fmt', '--check', '--write', p]).status, 2)
  assert.equal(spawnSync(process.execPath, [GWC, 'fmt', p, p]).status, 2)
  assert.equal(spawnSync(process.execPath, [GWC, 'fmt', repoPath('examples/shop.yaml')]).status, 2)
})
