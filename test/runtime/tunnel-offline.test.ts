// test/runtime/tunnel-offline.test.ts (issue 13 item 4): `gwc test` knows upgrades the way gw answers them: a
// request with `Connection: upgrade` + `Upgrade: websocket` on a route that tunnels it runs the route's stages and
// gets the upstream's 101 (the forwarded headers keep the upgrade pair); on a route without `upgrade`, or for a
// protocol the route does not list, it is 501 and no stage runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSuite } from '../../runtime/offline.js'
import { bundleFrom } from '../helpers/gateway.js'

const POLICY = `
upstream chat { replicas 127.0.0.1:1 }
route ws { match path prefix "/ws" method GET; ratelimit by ip 1 per 1m; timeout 1s; upgrade websocket; proxy chat }
route api { match path prefix "/api" method GET; timeout 1s; proxy chat }
`
const WS = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' }

test('gwc test: an upgrade is 101 through the route\'s stages where the route tunnels it, 501 elsewhere', () => {
  const b = bundleFrom(POLICY)
  const res = runSuite(b.manifest, b.moduleText, [
    { name: 'tunnelled', request: 'GET http://x.test/ws/room', headers: WS,
      expect: { route: 'ws', status: 101, stages: ['ratelimit', 'proxy'], forwarded: { upgrade: 'websocket', connection: 'upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } } },
    { name: 'limited', request: 'GET http://x.test/ws/room', headers: WS, repeat: 2, expect: { status: 429, stages: ['ratelimit'] } },
    { name: 'upstream refuses', request: 'GET http://x.test/ws/room', headers: WS, ip: '10.0.0.9', upstream_status: 403, expect: { status: 403 } },
    { name: 'no upgrade on the route', request: 'GET http://x.test/api/x', headers: WS, expect: { route: 'api', status: 501, stages: [] } },
    { name: 'another protocol', request: 'GET http://x.test/ws/room', headers: { ...WS, Upgrade: 'mqtt' }, ip: '10.0.0.8', expect: { status: 501 } },
    { name: 'a plain request on the upgrade route', request: 'GET http://x.test/ws/room', ip: '10.0.0.7', expect: { status: 200 } },
  ])
  assert.deepEqual(res.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.failures.join('; ')}`), [])
})
