// node lab/mutation/import-equivalents.mjs FILE.tsv  (lines: file<TAB>line:col<TAB>mutator<TAB>reason)
// Equivalent mutants argued by hand (a mutant applied to dist/ and reasoned about) become equivalents.json
// entries once Stryker has run their file: for every Survived/NoCoverage mutant in the file's cached report at
// line:col with that mutator, an entry with Stryker's exact original and replacement text is added. The rows
// that matched are removed from FILE; the rest (their file not run yet, or the mutant killed after all) stay.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { originalText } from './lib/report.mjs'
const root = dirname(fileURLToPath(import.meta.url)) + '/'
const eqPath = root + 'equivalents.json'
const eq = JSON.parse(readFileSync(eqPath, 'utf8'))
const slug = f => f.replace(/\.ts$/, '').replace(/\//g, '__')
let added = 0
const keep = []
for (const row of readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean)) {
  const [file, at, mutator, reason] = row.split('\t')
  const [line, col] = at.split(':').map(Number)
  const reports = readdirSync(root + 'cache').filter(n => n.startsWith(slug(file) + '.') && n.endsWith('.report.json'))
  let hit = 0
  for (const r of reports) {
    const rep = JSON.parse(readFileSync(root + 'cache/' + r, 'utf8'))
    const f = rep.files[file]; if (!f) continue
    for (const m of f.mutants) {
      if (m.location.start.line !== line || (col && m.location.start.column !== col) || (mutator && m.mutatorName !== mutator)) continue
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue
      const original = originalText(f.source, m.location)
      if (eq.mutants.some(e => e.file === file && e.line === line && e.mutator === m.mutatorName && e.original === original && e.replacement === m.replacement)) { hit++; continue }
      eq.mutants.push({ file, line, mutator: m.mutatorName, original, replacement: m.replacement, reason }); added++; hit++
    }
  }
  if (hit === 0) { console.log('no survivor at', file, at, mutator); keep.push(row) }
}
writeFileSync(process.argv[2], keep.map(r => r + '\n').join(''))
writeFileSync(eqPath, JSON.stringify(eq, null, 1) + '\n')
console.log('added', added)
