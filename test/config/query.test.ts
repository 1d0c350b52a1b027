// test/config/query.test.ts: the one query-string scanner (config/query.ts) read under its two callers' rules,
// side by side on the inputs where the rules differ: `match query` (config/conditions.ts: `+` a space, the first
// occurrence decides, a bad escape equals nothing) and an API key in the query (config/query.ts queryParam and
// withoutQueryParams: `+` a plus, a duplicate refused, a bad escape refused). The same behaviour through real
// sockets: test/issues/12-match-query-cookie.test.ts and test/issues/12-api-keys.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { INVALID, NOT_PRESENT, queryMatches, queryParam as conditionParam } from '../../config/conditions.js'
import { ABSENT, findQueryParam, FORM_RULES, KEY_RULES, queryParam as keyParam, REPEATED, withoutQueryParams } from '../../config/query.js'

test('`+`: a space for match query, a plus for an API key (in names and values alike)', () => {
  assert.equal(conditionParam('?v=2+beta', 'v'), '2 beta')
  assert.equal(keyParam('?v=2+beta', 'v'), '2+beta')
  assert.equal(conditionParam('?v=2%2Bbeta', 'v'), '2+beta', '%2B is a plus for both')
  assert.equal(keyParam('?v=2%2Bbeta', 'v'), '2+beta')
  assert.equal(queryMatches('?v=2+beta', 'v', '2 beta'), true)
  assert.equal(queryMatches('?v=2+beta', 'v', '2+beta'), false)
  assert.equal(conditionParam('?a+b=1', 'a b'), '1', 'a name with `+` is a name with a space')
  assert.equal(keyParam('?a+b=1', 'a b'), undefined)
  assert.equal(keyParam('?a+b=1', 'a+b'), '1')
  // removal compares names as the key reader does: `api+key` is not `api key`, and is kept
  assert.equal(withoutQueryParams('?api+key=1&x=2', ['api key']), '?api+key=1&x=2')
  assert.equal(withoutQueryParams('?api_key=a+b&x=2', ['api_key']), '?x=2')
})

test('a duplicate parameter: the first decides for match query, refused for an API key (also under an encoded name)', () => {
  assert.equal(conditionParam('?v=1&v=2', 'v'), '1')
  assert.equal(keyParam('?v=1&v=2', 'v'), null)
  assert.equal(keyParam('?v=1&%76=2', 'v'), null)
  assert.equal(conditionParam('?v=1&%76=2', 'v'), '1')
  assert.equal(findQueryParam('?v=1&v=2', 'v', FORM_RULES), 3)
  assert.equal(findQueryParam('?v=1&v=2', 'v', KEY_RULES), REPEATED)
  assert.equal(findQueryParam('?w=1', 'v', KEY_RULES), ABSENT)
  // every occurrence is removed upstream
  assert.equal(withoutQueryParams('?api_key=1&a=b&api%5Fkey=2', ['api_key']), '?a=b')
})

test('a malformed %-escape: equals nothing for match query (but is present), refused for an API key', () => {
  assert.equal(conditionParam('?v=%zz', 'v'), INVALID)
  assert.equal(queryMatches('?v=%zz', 'v', null), true, 'present')
  assert.equal(queryMatches('?v=%zz', 'v', '%zz'), false)
  assert.equal(keyParam('?v=%zz', 'v'), null)
  assert.equal(conditionParam('?v=%E9', 'v'), INVALID, 'not UTF-8')
  assert.equal(keyParam('?v=%E9', 'v'), null)
  // a name that does not decode is nobody's, for both; it is kept upstream
  assert.equal(conditionParam('?v%zz=1', 'v%zz'), NOT_PRESENT)
  assert.equal(keyParam('?v%zz=1', 'v%zz'), undefined)
  assert.equal(withoutQueryParams('?v%zz=1&api_key=k', ['api_key']), '?v%zz=1')
  // the first occurrence's bad value decides for match query; a later good one does not
  assert.equal(conditionParam('?v=%zz&v=1', 'v'), INVALID)
})

test('what both readers share: `&` only, the leading `?` optional, a name without `=` is \'\', empty pieces are nothing', () => {
  for (const read of [conditionParam, keyParam]) {
    assert.equal(read('?a=1;v=2', 'v'), read === keyParam ? undefined : NOT_PRESENT)
    assert.equal(read('v=2', 'v'), '2')
    assert.equal(read('?&&v&', 'v'), '')
    assert.equal(read('?v=', 'v'), '')
    assert.equal(read('?v=a=b', 'v'), 'a=b')
    assert.equal(read('?%76=%C3%A9', 'v'), 'é')
    assert.equal(read('', 'v'), read === keyParam ? undefined : NOT_PRESENT)
    assert.equal(read('?', 'v'), read === keyParam ? undefined : NOT_PRESENT)
  }
})

test('withoutQueryParams: the query itself when nothing is removed; the kept pieces in order, empty ones dropped', () => {
  const q = '?a=1&&b=2'
  assert.equal(withoutQueryParams(q, ['api_key']), q)
  assert.equal(withoutQueryParams('', ['api_key']), '')
  assert.equal(withoutQueryParams('?api_key=1', ['api_key']), '')
  assert.equal(withoutQueryParams('?api_key', ['api_key']), '')
  assert.equal(withoutQueryParams('?a=1&&api_key=2&&b=3&', ['api_key']), '?a=1&b=3')
  assert.equal(withoutQueryParams('?x=1&api_key=2&tok=3&y', ['api_key', 'tok']), '?x=1&y')
  assert.equal(withoutQueryParams('?api_keys=1&xapi_key=2', ['api_key']), '?api_keys=1&xapi_key=2', 'look-alike names')
  assert.equal(withoutQueryParams('?a=api_key', ['api_key']), '?a=api_key', 'a value is not a name')
})
