// lab/probe/lines.ts: a child's stdout and stderr as lines — the last 100 kept for error messages, each one
// handed to a callback as it completes (readiness lines, peer announcements).
import type { ChildProcess } from 'node:child_process'

/**
 * Splits the child's output into lines, keeps the last 100 in `lines`, calls `onLine` with each, and when
 * `echo` is given writes the raw output there as it arrives (stdout's and stderr's own, or one stream for both).
 */
export function collectLines(proc: ChildProcess, lines: string[], onLine: (line: string) => void, echo?: 'own' | NodeJS.WritableStream): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream === null) continue
    const out = echo === 'own' ? (stream === proc.stdout ? process.stdout : process.stderr) : echo
    let buf = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      out?.write(chunk)
      buf += chunk
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        if (lines.length > 100) lines.shift()
        onLine(line)
      }
    })
  }
}
