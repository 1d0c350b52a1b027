// `gwc keys add FILE CONSUMER`: makes a random API key, appends its SHA-256 (never the key) with the consumer id
// to a keys file (created 0600 when missing) and prints the key once, on stdout. A file that does not parse is
// left alone: appending to it would not make it loadable.
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs'
import type { PolicyCommand } from '../../compiler/policy-api.js'
import { CONSUMER_ID, KEY_LINE, keyHash } from './options.js'

const USAGE = 'usage: gwc keys add FILE CONSUMER'
const HEADER = '# gwp API keys: `sha256:<hex of the key\'s SHA-256> <consumer-id>` a line, never the keys themselves.\n# Add keys with `gwc keys add FILE CONSUMER`; delete a line to revoke a key. The gateway reloads this file on change.\n'

/** The first line (1-based) the gateway would refuse, or undefined when the file would load. */
function firstBadLine(text: string): number | undefined {
  const seen = new Set<string>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    const m = KEY_LINE.exec(line)
    if (m === null || !CONSUMER_ID.test(m[2]) || seen.has(m[1].toLowerCase())) return i + 1
    seen.add(m[1].toLowerCase())
  }
  return undefined
}

export const keysCommand: PolicyCommand = {
  name: 'keys',
  usage: [
    '  gwc keys add FILE CONSUMER',
    '                             add a random API key for CONSUMER to a keys file (only its SHA-256 is',
    '                             stored) and print the key once',
  ],
  run(args) {
    if (args[0] !== 'add' || args.length !== 3) return { code: 2, out: '', err: `gwc: ${USAGE}\n` }
    const [, file, consumer] = args
    if (!CONSUMER_ID.test(consumer)) return { code: 2, out: '', err: 'gwc: a consumer id is 1-128 letters, digits or . _ : @ + -\n' }
    let text = ''
    if (existsSync(file)) {
      text = readFileSync(file, 'utf8')
      const bad = firstBadLine(text)
      if (bad !== undefined) return { code: 1, out: '', err: `gwc: ${file}: line ${bad} is not \`sha256:<64 hex digits> <consumer-id>\` (or lists a key twice); nothing added\n` }
    }
    const key = 'gwk_' + randomBytes(32).toString('base64url')
    const line = `sha256:${keyHash(key)} ${consumer}\n`
    const fd = openSync(file, 'a', 0o600)
    try { writeSync(fd, (text === '' ? HEADER : text.endsWith('\n') ? '' : '\n') + line) } finally { closeSync(fd) }
    return { code: 0, out: key + '\n', err: `added a key for ${consumer} to ${file} (only its SHA-256 is stored): the key above is shown once, keep it now\n` }
  },
}
