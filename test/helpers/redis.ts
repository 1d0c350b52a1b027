// Starts a real redis-server on a free loopback port for a test (no persistence), and can kill and restart
// it on the same port, or pause (SIGSTOP) and resume it, to test outages. Skips cleanly when redis-server is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export const hasRedis = (): boolean => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

export interface TestRedis {
  port: number
  url: string
  /** SIGKILL the server (an outage, not a clean shutdown). */
  kill(): Promise<void>
  /** Start it again on the same port. */
  start(): Promise<void>
  /** SIGSTOP the server: its sockets stay open, nothing answers (a frozen or swapping host). */
  pause(): void
  /** SIGCONT a paused server. */
  resume(): void
  stop(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  let port = await freePort()
  let proc: ChildProcess | null = null
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const t = setTimeout(() => reject(new Error('redis-server did not start: ' + out)), 10_000)
      proc!.stdout!.on('data', (c: Buffer) => { out += c; if (out.includes('Ready to accept connections')) { clearTimeout(t); resolve() } })
      proc!.once('exit', code => { clearTimeout(t); reject(new Error(`redis-server exited with ${code}: ${out}`)) })
    })
    proc.stdout!.resume()
  }
  const kill = async () => {
    const p = proc
    proc = null
    if (p === null || p.exitCode !== null) return
    const exited = new Promise(r => p.once('exit', r))
    p.kill('SIGKILL')
    await exited
  }
  const signal = (sig: NodeJS.Signals) => { if (proc === null || proc.exitCode !== null) throw new Error('redis-server is not running'); proc.kill(sig) }
  // redis-server cannot listen on port 0 and report it, so the port is borrowed (free a moment ago); another
  // test file running at the same time may take it in between: then try another one.
  for (let attempt = 1; ; attempt++) {
    try { await start(); break } catch (e) {
      if (attempt === 3 || !/Address already in use/i.test(String(e))) throw e
      port = await freePort()
    }
  }
  return { port, url: `redis://127.0.0.1:${port}`, kill, start, stop: kill, pause: () => signal('SIGSTOP'), resume: () => signal('SIGCONT') }
}
