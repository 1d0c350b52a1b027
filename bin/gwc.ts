#!/usr/bin/env node
// gwc: the policy compiler's command line. Thin: parse argv, call into compiler/, print, set the exit code
// (0 clean, 1 errors found, 2 bad usage).
import { parseArgs } from 'node:util'
import { compile, type CompileResult } from '../compiler/compile.js'
import { buildBundle, writeBundle } from '../compiler/bundle.js'
import { renderGithub, renderJson, renderText, summary } from '../compiler/diagnostics/render.js'
import { renderRoutes } from '../compiler/tools/routes.js'
import { runFmt, type DiagnosticFormat } from '../compiler/tools/fmt.js'
import { runConvert } from '../compiler/tools/convert.js'
import { outputFormat, parseDiffSides, runDiff } from '../compiler/tools/diff.js'
import { parseExplainRequest, runExplain } from '../compiler/tools/explain.js'
import { isBundleDir, readBundle } from '../config/bundle-io.js'
import type { BundleIR } from '../config/ir.js'
import { GWP_VERSION } from '../config/version.js'
import { FRONT_ENDS } from '../compiler/front-ends.js'
import { REGISTRY } from '../compiler/policies.js'

const USAGE = `gwc ${GWP_VERSION}: compile and check gwp policies

usage:
  gwc check PATH…            check policy files (.gwp, .yaml) or directories; report every problem
  gwc build PATH… -o DIR     check, then write a bundle (manifest.json + handlers.js) to DIR
  gwc routes PATH…|BUNDLE    print the route table with each route's worst-case envelope
  gwc diff OLD NEW           per-route behaviour changes between two bundles or policy sets (exit 0 same,
                             1 different, 2 a side does not compile); several files a side: OLD… -- NEW…
                             or --old A --new B (repeatable); --format text|json
  gwc explain PATH…|BUNDLE --request "GET https://host/path" [-H "Name: value"]…
                             the route a request reaches, why every other one does not, and the stages it
                             runs (exit 0 routed, 1 the gateway would answer 404/400); --format text|json
  gwc fmt PATH…              format .gwp files: print one file's canonical text (- reads stdin);
                             --write rewrites files in place, --check lists unformatted ones (exit 1)
  gwc convert FILE.yaml      print the YAML policy as equivalent .gwp (-o OUT.gwp writes it instead)
  gwc test PATH…|BUNDLE --spec FILE [--fail-under N] [--format text|json]
                             run request expectations (route, status, stages, forwarded headers) against
                             the compiled policy offline; exit 1 on a failed case, a problem in the
                             spec file, or coverage under N%
${REGISTRY.commands.flatMap(c => c.usage).map(l => l + '\n').join('')}  gwc help [COMMAND]         this text, or one command's (also gwc COMMAND --help)

options:
  --format text|json|github  how diagnostics are printed (default text)
  --deny-warnings            exit 1 on warnings too
  -o, --out DIR              bundle output directory (build)

exit status: 0 no errors, 1 errors found, 2 bad usage
`

class Usage extends Error {}

/** One command's part of USAGE (its lines and their continuation lines), plus the options it shares. */
export function commandUsage(cmd: string): string | undefined {
  const lines = USAGE.split('\n')
  const start = lines.findIndex(l => l.startsWith(`  gwc ${cmd} `) || l === `  gwc ${cmd}`)
  if (start < 0 || cmd === 'help') return undefined
  const own = [lines[start]]
  for (let i = start + 1; i < lines.length && /^ {5,}\S/.test(lines[i]); i++) own.push(lines[i])
  const shared = ['check', 'build', 'routes'].includes(cmd)
    ? ['', 'options:', '  --format text|json|github  how diagnostics are printed (default text)', '  --deny-warnings            exit 1 on warnings too', ...(cmd === 'build' ? ['  -o, --out DIR              bundle output directory'] : [])]
    : []
  const exit = own.some(l => l.includes('exit')) ? [] : ['', 'exit status: 0 no errors, 1 errors found, 2 bad usage']
  return [`gwc ${cmd}: see docs/tools.md and docs/language.md`, '', 'usage:', ...own, ...shared, ...exit, ''].join('\n')
}

/** `--help`/`-h` among a command's own arguments (not after `--`). */
const asksHelp = (args: string[]): boolean => { const end = args.indexOf('--'); return (end < 0 ? args : args.slice(0, end)).some(a => a === '--help' || a === '-h') }

type Flags = Record<string, string | boolean | string[] | undefined>

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>): { flags: Flags; paths: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { flags: values as Flags, paths: positionals }
  } catch (e) { throw new Usage((e as Error).message) }
}

function report(r: CompileResult, format: string): void {
  const texts = new Map(r.sources.map(s => [s.display, s.text]))
  if (format === 'json') process.stdout.write(renderJson(r.diagnostics))
  else if (format === 'github') process.stdout.write(renderGithub(r.diagnostics))
  else {
    if (r.diagnostics.length > 0) process.stderr.write(renderText(r.diagnostics, texts))
    const n = r.sources.length
    process.stderr.write(`${summary(r.diagnostics)}${n === 0 ? ', no policy file read' : ` in ${n} file${n === 1 ? '' : 's'}`}\n`)
  }
}

function compilePaths(paths: string[], flags: Flags): CompileResult {
  if (paths.length === 0) throw new Usage('no policy files given')
  const format = String(flags.format ?? 'text')
  if (!['text', 'json', 'github'].includes(format)) throw new Usage(`unknown format ${JSON.stringify(format)} (text, json or github)`)
  const r = compile(paths, { frontEnds: FRONT_ENDS })
  report(r, format)
  return r
}

const failed = (r: CompileResult, flags: Flags): boolean => r.errors > 0 || (flags['deny-warnings'] === true && r.warnings > 0)

const COMMON = { format: { type: 'string' }, 'deny-warnings': { type: 'boolean' } } as const

/** IR from a bundle directory or from policy sources (checked first). */
function irOf(paths: string[], flags: Flags): BundleIR | undefined {
  if (paths.length === 1 && isBundleDir(paths[0])) return readBundle(paths[0]).manifest.ir
  const r = compilePaths(paths, flags)
  return r.ir
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const help = cmd === 'help' && rest.length > 0 ? commandUsage(rest[0]) : cmd !== undefined && asksHelp(rest) ? commandUsage(cmd) : undefined
  if (help !== undefined) { process.stdout.write(help); return 0 }
  if (cmd === 'help' && rest.length > 0) throw new Usage(`unknown command ${JSON.stringify(rest[0])}`)
  switch (cmd) {
    case 'check': {
      const { flags, paths } = parse(rest, COMMON)
      return failed(compilePaths(paths, flags), flags) ? 1 : 0
    }
    case 'build': {
      const { flags, paths } = parse(rest, { ...COMMON, out: { type: 'string', short: 'o' } })
      if (typeof flags.out !== 'string') throw new Usage('build needs -o DIR')
      const r = compilePaths(paths, flags)
      if (failed(r, flags) || r.ir === undefined) { process.stderr.write('nothing built\n'); return 1 }
      const b = buildBundle(r.ir, r.sources)
      writeBundle(flags.out, b)
      process.stderr.write(`built bundle ${b.manifest.version}: ${r.ir.routes.length} routes, ${r.ir.upstreams.length} upstreams → ${flags.out}\n`)
      return 0
    }
    case 'routes': {
      const { flags, paths } = parse(rest, COMMON)
      const ir = irOf(paths, flags)
      if (ir === undefined) return 1
      if (flags.format === 'json') process.stdout.write(JSON.stringify(ir.routes, null, 2) + '\n')
      else process.stdout.write(renderRoutes(ir))
      return 0
    }
    case 'diff': {
      const dashes = rest.indexOf('--')
      const { flags, paths } = parse(dashes < 0 ? rest : rest.slice(0, dashes), { format: { type: 'string' }, old: { type: 'string', multiple: true }, new: { type: 'string', multiple: true } })
      const format = outputFormat(flags.format)
      if (format === undefined) throw new Usage('diff --format is text or json')
      const sides = parseDiffSides(paths, dashes < 0 ? null : rest.slice(dashes + 1), flags.old as string[] | undefined, flags.new as string[] | undefined)
      if (typeof sides === 'string') throw new Usage(sides)
      const r = runDiff(sides, format)
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
    case 'explain': {
      const { flags, paths } = parse(rest, { format: { type: 'string' }, request: { type: 'string' }, header: { type: 'string', short: 'H', multiple: true } })
      const format = outputFormat(flags.format)
      if (format === undefined) throw new Usage('explain --format is text or json')
      if (paths.length === 0) throw new Usage('explain needs policy paths or a bundle directory')
      if (typeof flags.request !== 'string') throw new Usage('explain needs --request "METHOD URL"')
      const req = parseExplainRequest(flags.request, (flags.header as string[] | undefined) ?? [])
      if (typeof req === 'string') throw new Usage(req)
      const r = runExplain(paths, req, format)
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
    case 'fmt': {
      const { flags, paths } = parse(rest, { format: { type: 'string' }, write: { type: 'boolean' }, check: { type: 'boolean' } })
      if (flags.write === true && flags.check === true) throw new Usage('fmt takes --write or --check, not both')
      const format = String(flags.format ?? 'text')
      if (!['text', 'json', 'github'].includes(format)) throw new Usage(`unknown format ${JSON.stringify(format)} (text, json or github)`)
      const r = runFmt(paths, flags.write === true ? 'write' : flags.check === true ? 'check' : 'print', format as DiagnosticFormat)
      if (r.code === 2) throw new Usage(r.err.replace(/^gwc: /, '').trimEnd())
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
    case 'convert': {
      const { flags, paths } = parse(rest, { format: { type: 'string' }, out: { type: 'string', short: 'o' } })
      const format = String(flags.format ?? 'text')
      if (!['text', 'json', 'github'].includes(format)) throw new Usage(`unknown format ${JSON.stringify(format)} (text, json or github)`)
      const r = runConvert(paths, typeof flags.out === 'string' ? flags.out : undefined, format as DiagnosticFormat)
      if (r.code === 2) throw new Usage(r.err.replace(/^gwc: /, '').trimEnd())
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
    case 'test': {
      const { flags, paths } = parse(rest, { format: { type: 'string' }, spec: { type: 'string' }, 'fail-under': { type: 'string' } })
      const format = outputFormat(flags.format)
      if (format === undefined) throw new Usage('test --format is text or json')
      if (paths.length === 0) throw new Usage('test needs policy paths or a bundle directory')
      if (typeof flags.spec !== 'string') throw new Usage('test needs --spec FILE')
      const fu = flags['fail-under'] === undefined ? undefined : Number(flags['fail-under'])
      if (fu !== undefined && !(fu >= 0 && fu <= 100)) throw new Usage('--fail-under takes a percentage from 0 to 100')
      // Loaded here, not at the top: `gwc test` runs the runtime's pipeline offline (undici, jose, ioredis,
      // prom-client, pino, find-my-way), which no other command needs; a static import cost every gwc run ~0.3 s.
      const { runTest } = await import('./gwc-test.js')
      const r = runTest(paths, flags.spec, fu, format)
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
    case 'help': case '--help': case '-h': case undefined:
      process.stdout.write(USAGE)
      return cmd === undefined ? 2 : 0
    case '--version': case 'version':
      process.stdout.write(GWP_VERSION + '\n')
      return 0
    default: {
      // a policy's own command (`gwc keys add`)
      const c = REGISTRY.command(cmd)
      if (c === undefined) throw new Usage(`unknown command ${JSON.stringify(cmd)}`)
      const r = c.run(rest)
      if (r.code === 2) throw new Usage(r.err.replace(/^gwc: /, '').trimEnd())
      process.stdout.write(r.out); process.stderr.write(r.err)
      return r.code
    }
  }
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (e: unknown) => {
  if (e instanceof Usage) { process.stderr.write(`gwc: ${e.message}\n\n${USAGE}`); process.exitCode = 2; return }
  process.stderr.write(`gwc: ${(e as Error).stack ?? String(e)}\n`)
  process.exitCode = 1
})
