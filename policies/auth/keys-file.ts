// A keys file: SHA-256 hashes of API keys with the consumer each belongs to, never the keys. Read at load (a
// file that cannot be read or parsed refuses the bundle) and again whenever it changes on disk (polled by
// path, so an editor's rename-into-place is seen): a change that does not parse keeps the keys already loaded
// and is logged. The format, one key a line (`gwc keys add FILE CONSUMER` writes them):
//
//   # comment
//   sha256:<64 hex digits> <consumer-id>
//
// Shared between the keys stages and bundles that read the same file with the same forwarded header, so a
// reload does not re-read it twice or drop a watch another bundle still needs.
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { IdentityHeader } from '../../config/context.js'
import { CONSUMER_ID, KEY_LINE, keyHash } from './options.js'

export { CONSUMER_ID, keyHash }

/** One listed key: who it belongs to, and the identity headers made for that consumer once, at load. */
export interface KeyEntry { consumer: string; identity: IdentityHeader[] | null }

/** Parses a keys file's text; throws an Error naming the first bad line (never echoing more than its number). */
export function parseKeysFile(text: string, forward: string | null): Map<string, KeyEntry> {
  const out = new Map<string, KeyEntry>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    const m = KEY_LINE.exec(line)
    if (m === null) throw new Error(`line ${i + 1} is not \`sha256:<64 hex digits> <consumer-id>\` (a keys file holds hashes, never keys: add keys with \`gwc keys add\`)`)
    if (!CONSUMER_ID.test(m[2])) throw new Error(`line ${i + 1}: the consumer id must be 1-128 letters, digits or . _ : @ + -`)
    const h = m[1].toLowerCase()
    if (out.has(h)) throw new Error(`line ${i + 1} lists a key already listed`)
    out.set(h, { consumer: m[2], identity: forward === null ? null : [{ header: forward, value: m[2] }] })
  }
  return out
}


export class KeysFile {
  private keys: Map<string, KeyEntry>
  private readonly onChange: (cur: Stats, prev: Stats) => void
  private reading: Promise<void> | null = null
  private again = false

  /** Reads the file now (throws when it cannot be read or parsed) and starts watching it. */
  constructor(readonly path: string, private readonly forward: string | null, private readonly log: Logger, pollMs = 500) {
    this.keys = parseKeysFile(readFileSync(path, 'utf8'), forward)
    this.onChange = (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return
      void this.reload()
    }
    watchFile(path, { interval: pollMs, persistent: false }, this.onChange)
  }

  /** The entry of a presented key, or undefined. HOT PATH: one SHA-256 of the key and one Map lookup. */
  lookup(key: string): KeyEntry | undefined {
    return this.keys.get(keyHash(key))
  }

  get size(): number { return this.keys.size }

  /** Re-reads the file at once (a bundle load): throws, keeping the loaded keys, when it cannot be read or parsed. */
  reloadNow(): void {
    this.keys = parseKeysFile(readFileSync(this.path, 'utf8'), this.forward)
  }

  /** Re-reads the file; keeps the loaded keys when the new text cannot be read or parsed. One read at a time. */
  reload(): Promise<void> {
    if (this.reading !== null) { this.again = true; return this.reading }
    this.reading = (async () => {
      do {
        this.again = false
        try {
          this.keys = parseKeysFile(await readFile(this.path, 'utf8'), this.forward)
          this.log.info({ keysFile: this.path, keys: this.keys.size }, 'keys file reloaded')
        } catch (e) {
          this.log.error({ keysFile: this.path, err: (e as Error).message }, 'keys file changed but cannot be used: the keys loaded before stay in force')
        }
      } while (this.again)
    })().finally(() => { this.reading = null })
    return this.reading
  }

  stop(): void { unwatchFile(this.path, this.onChange) }
}
