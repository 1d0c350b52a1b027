// Turns Stryker's JSON report (mutation-testing-report-schema) into the lab's dated Markdown report: the score per
// file and for the area, every survivor with file:line and the mutation, equivalent mutants with their reason.

const KILLED = new Set(['Killed', 'Timeout'])
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage'])

/** The source text a mutant replaces (its location in its file's source). */
export function originalText(source, loc) {
  const lines = source.split('\n')
  const { start, end } = loc
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1)
  const out = [lines[start.line - 1].slice(start.column - 1)]
  for (let l = start.line; l < end.line - 1; l++) out.push(lines[l])
  out.push(lines[end.line - 1].slice(0, end.column - 1))
  return out.join('\n')
}

const oneLine = (s, max = 90) => { const t = s.replace(/\s+/g, ' ').trim(); return t.length > max ? t.slice(0, max - 1) + '…' : t }

/**
 * An equivalent mutant is named by file, line, mutator, the text it replaces and its replacement. The same text
 * can mean different things on different lines, so the line must match too: when code moves, the list is
 * updated (the survivor reappears in the report until it is).
 */
export function findEquivalent(equivalents, file, m, original) {
  return equivalents.find(e => e.file === file && e.line === m.location.start.line && e.mutator === m.mutatorName &&
    oneLine(e.original, 1e9) === oneLine(original, 1e9) && oneLine(e.replacement, 1e9) === oneLine(m.replacement ?? '', 1e9))
}

/** Counts and survivors per file from a Stryker JSON report. */
export function summarize(report, equivalents = []) {
  const files = []
  for (const [file, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const s = { file, killed: 0, timeout: 0, survived: 0, noCoverage: 0, equivalent: 0, errors: 0, survivors: [], equivalents: [] }
    for (const m of [...f.mutants].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)) {
      if (!COUNTED.has(m.status)) { s.errors++; continue }
      const original = originalText(f.source, m.location)
      if (!KILLED.has(m.status)) {
        const eq = findEquivalent(equivalents, file, m, original)
        if (eq !== undefined) { s.equivalent++; s.equivalents.push({ line: m.location.start.line, mutator: m.mutatorName, original, replacement: m.replacement, reason: eq.reason }); continue }
      }
      if (m.status === 'Killed') s.killed++
      else if (m.status === 'Timeout') s.timeout++
      else {
        if (m.status === 'Survived') s.survived++; else s.noCoverage++
        s.survivors.push({ line: m.location.start.line, column: m.location.start.column, mutator: m.mutatorName, status: m.status, original, replacement: m.replacement ?? '' })
      }
    }
    files.push(s)
  }
  const total = files.reduce((t, s) => {
    for (const k of ['killed', 'timeout', 'survived', 'noCoverage', 'equivalent', 'errors']) t[k] += s[k]
    return t
  }, { killed: 0, timeout: 0, survived: 0, noCoverage: 0, equivalent: 0, errors: 0 })
  return { files, total }
}

/** Killed share of the mutants that count: killed + timeout over killed + timeout + survived + no coverage. */
export const score = c => {
  const n = c.killed + c.timeout + c.survived + c.noCoverage
  return n === 0 ? 100 : (100 * (c.killed + c.timeout)) / n
}

const pct = v => v.toFixed(1) + '%'
const cell = s => '`' + oneLine(s, 70).replaceAll('|', '\\|').replaceAll('`', "'") + '`'

/** The Markdown report. */
export function renderReport({ area, date, command, lastCommand = command, seconds, stryker, node, commit, target, summary, missing = [], stale = [], times = {} }) {
  const t = summary.total
  const raw = { ...t, survived: t.survived + t.equivalent }
  const lines = [
    `# Mutation report: ${area}, ${date}`,
    '',
    `Command: \`${command}\` (from the repository root)${lastCommand !== command ? `; this report joins each file's last result, the latest from \`${lastCommand}\`` : ''}  `,
    `Commit: ${commit}; StrykerJS ${stryker}, Node ${node}; run time ${Math.round(seconds)} s (one core, sum over the files' last full runs)${t.errors > 0 ? `; ${t.errors} mutants did not load (compile/runtime errors, not counted)` : ''}`,
    '',
    ...(missing.length > 0 ? [`**Partial: not run yet: ${missing.join(', ')}.**`, ''] : []),
    ...(stale.length > 0 ? [`**Partial: run on an older version of the file (its new code never ran; \`--survivors-only\` runs it and keeps the kills of the code that did not change): ${stale.join(', ')}.**`, ''] : []),
    `**Score: ${pct(score(t))}** killed (target ≥ ${target}%): ${t.killed} killed, ${t.timeout} timed out, ${t.survived} survived, ${t.noCoverage} no coverage, ${t.equivalent} equivalent (not counted; ${pct(score(raw))} counting them as survivors).`,
    '',
    '| file | killed | timeout | survived | no coverage | equivalent | score | run time |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summary.files.map(s => `| ${s.file} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.equivalent} | ${pct(score(s))} | ${times[s.file] ?? '?'} s |`),
    `| **${area}** | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${t.equivalent} | **${pct(score(t))}** | ${Math.round(seconds)} s |`,
    '',
    '## Survivors',
    '',
  ]
  const survivors = summary.files.flatMap(s => s.survivors.map(m => ({ file: s.file, ...m })))
  if (survivors.length === 0) lines.push('None.')
  else {
    lines.push('| where | mutator | original | mutant |', '| --- | --- | --- | --- |')
    for (const m of survivors) lines.push(`| ${m.file}:${m.line}:${m.column}${m.status === 'NoCoverage' ? ' (no coverage)' : ''} | ${m.mutator} | ${cell(m.original)} | ${cell(m.replacement)} |`)
  }
  lines.push('', '## Equivalent mutants (lab/mutation/equivalents.json)', '')
  const eqs = summary.files.flatMap(s => s.equivalents.map(m => ({ file: s.file, ...m })))
  if (eqs.length === 0) lines.push('None.')
  else {
    lines.push('| where | mutator | original | mutant | why it is equivalent |', '| --- | --- | --- | --- | --- |')
    for (const m of eqs) lines.push(`| ${m.file}:${m.line} | ${m.mutator} | ${cell(m.original)} | ${cell(m.replacement)} | ${m.reason.replaceAll('|', '\\|')} |`)
  }
  return lines.join('\n') + '\n'
}

/**
 * The lines of a file no part's range covers, as ranges ('A-B'), from the parts' ranges ('A-B') and the file's
 * line count: a file run whole in parts is not partial.
 */
export function linesNotCovered(parts, lineCount) {
  const ranges = parts.map(p => p.split('-').map(Number)).sort((a, b) => a[0] - b[0])
  const out = []
  let next = 1
  for (const [a, b] of ranges) {
    if (a > next) out.push(`${next}-${a - 1}`)
    next = Math.max(next, b + 1)
  }
  if (next <= lineCount) out.push(`${next}-${lineCount}`)
  return out
}

/**
 * How many lines differ between the source a run mutated and the file now (lines removed plus lines added, by a
 * longest common subsequence of lines): 0 when the run is of the current file. A run of an older version counts
 * only for the code that did not change, so the report names it.
 */
export function linesChanged(runSource, currentSource) {
  if (runSource === currentSource) return 0
  const a = runSource.split('\n'), b = currentSource.split('\n')
  let prev = new Array(b.length + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    const row = new Array(b.length + 1).fill(0)
    for (let j = 1; j <= b.length; j++) row[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1])
    prev = row
  }
  return a.length + b.length - 2 * prev[b.length]
}
