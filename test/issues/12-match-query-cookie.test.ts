// Issue 12 item 6: `match query NAME ["VALUE"]` and `match cookie NAME ["VALUE"]` through real sockets. Query
// parameters: split at `&`, names and values percent-decoded with `+` as a space, the first occurrence decides,
// an invalid escape equals nothing. Cookies: the Cookie header(s) split at `;`, spaces around names and values
// dropped, names case-sensitive, values as sent, the first occurrence decides. More conditions beat fewer.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'

let up: RecordingUpstream
let gw: TestGateway

const route = (name: string, match: string) =>
  `route ${name} { match host "shop.test" path prefix "/shop" ${match}; headers request set X-Route "${name}"; timeout 2s; proxy web }`

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream web { replicas ${up.addrs} }
${route('stable', '')}
${route('canary', 'cookie canary "1"')}
${route('preview', 'query preview')}
${route('v2', 'query v "2 beta"')}
${route('unicode', 'query "q" "é"')}
${route('both', 'cookie canary "1" query preview')}
${route('beta_header', 'header X-Beta "yes"')}
`)
})
after(async () => { await gw?.close(); await up?.close() })

/** The route that served `target` (the X-Route header the upstream received), and the target it was sent. */
async function routeOf(target: string, headers: Record<string, string | string[]> | string[] = {}): Promise<{ route: string | undefined; sent: string }> {
  up.reset()
  const res = await request(gw.url + target, { headers: Array.isArray(headers) ? headers : { host: 'shop.test', ...headers } })
  await res.body.text()
  assert.equal(res.statusCode, 200, target)
  return { route: up.received[0]?.header('x-route'), sent: up.received[0]?.target ?? '' }
}
const via = async (target: string, headers?: Record<string, string | string[]> | string[]) => (await routeOf(target, headers)).route

test('cookie conditions: exact value, names case-sensitive, the first occurrence wins, spaces trimmed', async () => {
  assert.equal(await via('/shop/x'), 'stable')
  assert.equal(await via('/shop/x', { cookie: 'canary=1' }), 'canary')
  assert.equal(await via('/shop/x', { cookie: 'session=abc; canary=1; theme=dark' }), 'canary')
  assert.equal(await via('/shop/x', { cookie: 'session=abc;canary=1' }), 'canary', 'no space after `;`')
  assert.equal(await via('/shop/x', { cookie: '  canary = 1 ;x=2' }), 'canary', 'spaces around name and value')
  assert.equal(await via('/shop/x', { cookie: 'Canary=1' }), 'stable', 'cookie names are case-sensitive')
  assert.equal(await via('/shop/x', { cookie: 'CANARY=1; canary=0' }), 'stable')
  assert.equal(await via('/shop/x', { cookie: 'canary=0; canary=1' }), 'stable', 'the first canary decides')
  assert.equal(await via('/shop/x', { cookie: 'canary=1; canary=0' }), 'canary')
  assert.equal(await via('/shop/x', { cookie: 'canary="1"' }), 'stable', 'values are compared as sent, quotes included')
  assert.equal(await via('/shop/x', { cookie: 'canary=%31' }), 'stable', 'cookie values are not percent-decoded')
  assert.equal(await via('/shop/x', { cookie: 'xcanary=1; canaryx=1; canary' }), 'stable', 'look-alike names and a piece without `=`')
  assert.equal(await via('/shop/x', { cookie: 'a=canary=1' }), 'stable', 'a value containing `canary=1`')
  // two Cookie lines: Node joins them with `; `, so the first line's cookie comes first
  assert.equal(await via('/shop/x', ['host', 'shop.test', 'cookie', 'canary=1', 'cookie', 'canary=0']), 'canary')
  assert.equal(await via('/shop/x', ['host', 'shop.test', 'cookie', 'x=1', 'Cookie', 'canary=1']), 'canary', 'a second, oddly-cased Cookie line')
  assert.equal(await via('/shop/x', ['host', 'shop.test', 'cookie', 'canary=0', 'COOKIE', 'canary=1']), 'stable')
})

test('query conditions: presence, decoded values, `+` as space, first occurrence, invalid escapes never match', async () => {
  assert.equal(await via('/shop/x?preview'), 'preview')
  assert.equal(await via('/shop/x?preview='), 'preview')
  assert.equal(await via('/shop/x?a=1&preview=0&b=2'), 'preview')
  assert.equal(await via('/shop/x?Preview'), 'stable', 'query names are case-sensitive')
  assert.equal(await via('/shop/x?previews=1&xpreview'), 'stable', 'look-alike names')
  assert.equal(await via('/shop/x?%70review'), 'preview', 'the name is percent-decoded')
  assert.equal(await via('/shop/x?a=preview'), 'stable', 'a value is not a name')
  assert.equal(await via('/shop/x?v=2+beta'), 'v2', '`+` is a space')
  assert.equal(await via('/shop/x?v=2%20beta'), 'v2')
  assert.equal(await via('/shop/x?v=2%20BETA'), 'stable', 'values are case-sensitive')
  assert.equal(await via('/shop/x?v=2%2Bbeta'), 'stable', '%2B is a plus, not a space')
  assert.equal(await via('/shop/x?v=2 beta'.replace(' ', '%20') + '&v=1'), 'v2', 'the first v decides')
  assert.equal(await via('/shop/x?v=1&v=2+beta'), 'stable', 'a later v does not count')
  assert.equal(await via('/shop/x?v=2%zzbeta'), 'stable', 'an invalid escape never matches')
  assert.equal(await via('/shop/x?v=%ZZ&v=2+beta'), 'stable', 'nor lets a later occurrence decide')
  assert.equal(await via('/shop/x?v=2+beta;v=1'), 'stable', '`;` is not a separator')
  assert.equal(await via('/shop/x?q=%C3%A9'), 'unicode', 'UTF-8 escapes decode')
  assert.equal(await via('/shop/x?q=%E9'), 'stable', 'a Latin-1 escape is not UTF-8: invalid, never matches')
  assert.equal(await via('/shop/x?q=%C3%A9%'), 'stable')
  // the query reaches the upstream as the client sent it
  assert.equal((await routeOf('/shop/x?v=2+beta&z=%zz')).sent, '/shop/x?v=2+beta&z=%zz')
})

test('several conditions: more beat fewer, all must hold; a header-only route still routes as before', async () => {
  assert.equal(await via('/shop/x?preview', { cookie: 'canary=1' }), 'both')
  assert.equal(await via('/shop/x?preview', { cookie: 'canary=2' }), 'preview')
  assert.equal(await via('/shop/x', { cookie: 'canary=1', 'x-beta': 'yes' }), 'canary', 'equal counts: the route declared first wins')
  assert.equal(await via('/shop/x', { 'x-beta': 'yes' }), 'beta_header')
  assert.equal(await via('/shop?preview'), 'preview', 'the prefix itself with a query')
})
