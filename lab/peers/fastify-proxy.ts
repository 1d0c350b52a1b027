// lab/peers/fastify-proxy.ts: fastify 5 + @fastify/http-proxy in front of the same upstream(s), set up as a
// user would for production: logger off, undici keep-alive pools of a given size, bodies streamed through.
//   node dist/lab/peers/fastify-proxy.js --listen 127.0.0.1:8082 --upstream 127.0.0.1:9001[,127.0.0.1:9002]
import Fastify from 'fastify'
import httpProxy from '@fastify/http-proxy'
import { BalancedPool } from 'undici'
import { formatHostPort, isMain, runPeerMain, type HostPort } from './common.js'

export interface FastifyProxyOptions {
  listen: HostPort
  upstreams: HostPort[]
  /** Keep-alive connections per replica. */
  connections: number
  keepAliveMs?: number
}

/**
 * Starts the fastify peer. One replica: @fastify/reply-from's own undici Agent built from the `undici` options.
 * Several: an undici BalancedPool over them passed as the `undici` dispatcher (http-proxy takes one upstream
 * URL; reply-from supports a BalancedPool for exactly this), which is what a user balancing in-process would do.
 */
export async function startFastifyProxy(opts: FastifyProxyOptions): Promise<{ url: string; port: number; pid: number; close(): Promise<void> }> {
  if (opts.upstreams.length === 0) throw new Error('fastify-proxy: at least one upstream')
  const origins = opts.upstreams.map((u) => `http://${formatHostPort(u)}`)
  const poolOpts = { connections: opts.connections, pipelining: 1, keepAliveTimeout: opts.keepAliveMs ?? 30_000 }
  const app = Fastify({ logger: false })
  await app.register(httpProxy, {
    upstream: origins[0],
    undici: origins.length > 1 ? new BalancedPool(origins, poolOpts) : poolOpts,
  })
  await app.listen({ host: opts.listen.host, port: opts.listen.port })
  const port = (app.server.address() as { port: number }).port
  return {
    url: `http://${formatHostPort({ host: opts.listen.host, port })}`,
    port,
    pid: process.pid,
    async close() { await app.close() },
  }
}

if (isMain(import.meta.url)) {
  void runPeerMain('fastify-proxy', (a) => startFastifyProxy({ listen: a.listen, upstreams: a.upstreams, connections: a.connections, keepAliveMs: a.keepAliveMs }))
}
