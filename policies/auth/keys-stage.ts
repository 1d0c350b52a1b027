// Runtime side of `auth` with a `keys` provider: the request presents an API key in a header or a query
// parameter; the key's SHA-256 is looked up among the keys file's hashes (keys-file.ts). Missing, duplicate,
// malformed or unknown keys get the same 401 as any auth failure. The consumer id goes to ctx.state.consumer
// (`ratelimit by consumer`) and, when the provider forwards it, upstream as an identity header.
//
// Timing: the presented key is hashed first and the hash is what is compared (a Map lookup), so how long a
// lookup takes depends on the hash of the guess, never on how many leading bytes of a real key it shares: to
// steer a guess's hash towards a stored one an attacker would have to invert SHA-256.
import type { RequestContext } from '../../config/context.js'
import { queryParam } from '../../config/query.js'
import { CONTINUE, type Continue, type Reply, type Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply } from '../../runtime/policy-api.js'
import { KeysFile } from './keys-file.js'
import type { KeysProviderIR } from './options.js'

const MISSING = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'ApiKey'])
const INVALID = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'ApiKey error="invalid_key"'])
/** Longest key looked up: anything longer is refused before hashing. */
const MAX_KEY = 512

/**
 * The value of header `name` (lower-case) from the raw header list: undefined when absent, null when sent more
 * than once (Node would join some duplicates with `, ` and silently drop others, such as a second
 * Authorization). HOT PATH: lower-cases only names of the right length.
 */
export function singleHeader(raw: readonly string[], name: string): string | null | undefined {
  let v: string | undefined
  const len = name.length
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]
    if (n.length === len && n.toLowerCase() === name) {
      if (v !== undefined) return null
      v = raw[i + 1]
    }
  }
  return v
}

/** How a request presents a provider's key: its value, undefined (absent) or null (duplicate, undecodable). */
export function keyReader(p: KeysProviderIR): (ctx: RequestContext) => string | null | undefined {
  const name = p.key.name
  return p.key.in === 'header' ? ctx => singleHeader(ctx.req.rawHeaders, name) : ctx => queryParam(ctx.query, name)
}

export function keysFileOf(p: KeysProviderIR, env: StageEnv): KeysFile {
  const key = `keys:${p.store.path}\0${p.forwardConsumer ?? ''}`
  let created = false
  const f = env.shared(key, () => { created = true; return new KeysFile(p.store.path, p.forwardConsumer, env.log) })
  // a bundle load re-reads the file (a broken file refuses the bundle; the old one keeps serving)
  if (!created) f.reloadNow()
  return f
}

export function createKeysStage(route: string, p: KeysProviderIR, env: StageEnv): Stage {
  const file = keysFileOf(p, env)
  const read = keyReader(p)
  const r401 = env.metrics.rejects('auth', route, '401')
  return function auth(ctx: RequestContext): Continue | Reply { // HOT PATH: synchronous
    const key = read(ctx)
    if (key === undefined) { r401.inc(); return MISSING }
    if (key === null || key.length === 0 || key.length > MAX_KEY) { r401.inc(); return INVALID }
    const e = file.lookup(key)
    if (e === undefined) { r401.inc(); return INVALID }
    ctx.state.consumer = e.consumer
    if (e.identity !== null) ctx.state.identity = e.identity
    return CONTINUE
  }
}
