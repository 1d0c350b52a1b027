// lab/peers/index.ts: the peer proxies' public API; each file is also runnable as its own process.
export { startFloor, type FloorOptions } from './floor.js'
export { startFastifyProxy, type FastifyProxyOptions } from './fastify-proxy.js'
export { startBytesProxy, readFraming, ChunkedScanner, type BytesProxyOptions } from './bytes.js'
export { startNginx, findNginx, nginxConf, freePort, type NginxOptions, type NginxPeer } from './nginx.js'
export {
  parsePeerArgs, parseHostPort, formatHostPort, parsePeerLine, peerScript, readyLine, skippedLine, PEER_LINE_RE, HOP_BY_HOP,
  DEFAULT_CONNECTIONS, type HostPort, type PeerArgs, type PeerLine,
} from './common.js'
