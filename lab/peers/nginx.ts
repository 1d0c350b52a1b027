// lab/peers/nginx.ts: nginx as a reverse proxy to the same upstream(s), with upstream keep-alive, run from
// a temp dir (one worker, daemon off, no logs). Skipped with a clear note when nginx is not installed.
//   node dist/lab/peers/nginx.js --listen 127.0.0.1:8083 --upstream 127.0.0.1:9001[,…] [--connections N]
// (GWP_NGINX=/path/to/nginx picks the binary; a path that is not executable counts as not installed.)
// Prints the ready line with nginx's master pid (probe its tree with lab/probe createTreeProbe), or
// "gwp-peer skipped nginx: …" and exits 0.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatHostPort, isMain, parsePeerArgs, readyLine, skippedLine, type HostPort } from './common.js'

export interface NginxOptions {
  listen: HostPort
  upstreams: HostPort[]
  /** Idle keep-alive connections kept per worker towards the upstream group (nginx's `keepalive N`). */
  connections: number
  keepAliveMs?: number
  workerProcesses?: number
}

export type NginxPeer =
  | { skipped: false; url: string; port: number; pid: number; proc: ChildProcess; dir: string; close(): Promise<void> }
  | { skipped: true; reason: string }

/** Path of the nginx binary, or undefined when it is not installed. GWP_NGINX names the binary to use instead. */
export function findNginx(): string | undefined {
  const forced = process.env.GWP_NGINX
  if (forced !== undefined && forced !== '') {
    try { accessSync(forced, constants.X_OK); return forced } catch { return undefined }
  }
  for (const p of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    try { return execFileSync('sh', ['-c', `command -v ${p}`], { encoding: 'utf8' }).trim() || undefined } catch { /* next */ }
  }
  return undefined
}

/**
 * The nginx.conf: every path inside `dir`, logs off, HTTP/1.1 keep-alive to the upstream (Connection cleared so
 * the client's "close" is not forwarded), keepalive_requests raised on both sides so long runs do not recycle
 * connections every 1000 requests (nginx's default; Node never does). Uploads up to 100 MB (the default 1 MB
 * refuses the benchmark's 1–10 MB bodies). Host is the client's, as most production
 * configs set it (nginx's own default would be the upstream group's name). Buffering stays at nginx's defaults.
 */
export function nginxConf(opts: NginxOptions, dir: string): string {
  const servers = opts.upstreams.map((u) => `    server ${formatHostPort(u)};`).join('\n')
  const keepAliveS = Math.max(1, Math.round((opts.keepAliveMs ?? 30_000) / 1000))
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  return `# written by lab/peers/nginx.ts
${isRoot ? 'user root;\n' : ''}daemon off;
master_process on;
worker_processes ${opts.workerProcesses ?? 1};
pid ${join(dir, 'nginx.pid')};
error_log /dev/null crit;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp', 'body')};
  proxy_temp_path ${join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(dir, 'tmp', 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  client_max_body_size 100m;
  upstream gwp_upstream {
${servers}
    keepalive ${opts.connections};
    keepalive_requests 1000000;
    keepalive_timeout ${keepAliveS}s;
  }
  server {
    listen ${formatHostPort(opts.listen)};
    location / {
      proxy_pass http://gwp_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`
}

/** A port free right now on host (nginx cannot listen on port 0 and report the port). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, host, () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

function canConnect(a: HostPort): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(a.port, a.host)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** Starts nginx, or returns { skipped } when it is not installed. Rejects if it is installed but fails to start. */
export async function startNginx(opts: NginxOptions): Promise<NginxPeer> {
  const bin = findNginx()
  if (bin === undefined) return { skipped: true, reason: `nginx not installed (${process.env.GWP_NGINX ? `GWP_NGINX=${process.env.GWP_NGINX} is not executable` : 'no nginx on PATH or in /usr/sbin'})` }
  const listen = opts.listen.port === 0 ? { host: opts.listen.host, port: await freePort(opts.listen.host) } : opts.listen
  const dir = mkdtempSync(join(tmpdir(), 'gwp-nginx-'))
  mkdirSync(join(dir, 'tmp'))
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({ ...opts, listen }, dir))
  // -e: nginx logs start-up errors to its compiled-in path before it reads the conf; send them to stderr instead.
  const proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  let exited = false
  const exit = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve() }))
  proc.once('error', () => { exited = true })
  const until = Date.now() + 5000
  while (!(await canConnect(listen))) {
    if (exited || Date.now() > until) {
      proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`nginx did not start: ${stderr.trim() || 'no output'}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    skipped: false,
    url: `http://${formatHostPort(listen)}`,
    port: listen.port,
    pid: proc.pid as number,
    proc,
    dir,
    async close() {
      if (!exited) {
        proc.kill('SIGTERM') // fast shutdown (SIGQUIT would wait for connections to drain)
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000)
        await exit
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

if (isMain(import.meta.url)) {
  let args
  try { args = parsePeerArgs(process.argv.slice(2)) } catch (e) {
    process.stderr.write(`nginx: ${(e as Error).message}\n`)
    process.exit(2)
  }
  const peer = await startNginx({ listen: args.listen, upstreams: args.upstreams, connections: args.connections, keepAliveMs: args.keepAliveMs })
  if (peer.skipped) {
    process.stdout.write(skippedLine('nginx', peer.reason) + '\n')
  } else {
    process.stdout.write(readyLine('nginx', peer.url, peer.pid) + '\n')
    let closing = false
    const stop = (): void => { closing = true; void peer.close().finally(() => process.exit(0)) }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    peer.proc.once('exit', (code) => {
      if (closing) return
      process.stderr.write(`nginx exited on its own (${String(code)})\n`)
      process.exit(1)
    })
  }
}
