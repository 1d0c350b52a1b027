// test/helpers/access-log.ts: read a gateway's access log (a file) the way a user would, waiting for the writer's
// 200 ms flush.
import { readFileSync } from 'node:fs'

/** The access-log line of request `id` in `file`, or undefined if none appears within about 3 s. */
export async function accessLine(file: string, id: string): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 60; i++) {
    let text = ''
    try { text = readFileSync(file, 'utf8') } catch { /* not written yet */ }
    const line = text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.id === id)
    if (line !== undefined) return line
    await new Promise(r => setTimeout(r, 50))
  }
  return undefined
}
