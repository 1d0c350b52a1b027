// test/policies/check-diagnostics.test.ts: the checkers of `cors`, `ip` and `rewrite` (policies/{cors,ip,rewrite}/
// check.ts and what they decide on: cors/options.ts's wildcard cover, ip/cidr.ts's reading, rewrite/regex.ts and
// template.ts) through the compiler, in-process. For every statement: every diagnostic whole, as a user sees it
// (severity, code, line:col, the underlined text and its length, message, label, hint, each note with its place),
// and what the checker returned (the stage IR, or nothing after an error), read by wrapping the three kinds'
// `check` in a registry of their own. The goldens show one case per code; this pins each branch and boundary:
// origin normal form (scheme and host lower case, default port dropped, wildcards apart), methods, headers,
// max_age and its caps, `*` with credentials, IP lists (normal form, host bits, entries covered in one list and
// across the two), rewrite prefixes (normal form of `from` and `to`), W0770 coverage, regex and replacement
// positions inside the string, and the upstream Host. The mutation run (lab/mutation, area policies) runs it
// last for the three check.ts files.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import type { CompilePolicy } from '../../compiler/policy-api.js'
import { POLICIES, PolicyRegistry } from '../../compiler/policies.js'
import { memoryHost } from '../../compiler/sources.js'
import type { Diagnostic } from '../../grammar/index.js'

/** What the wrapped checks returned, in the order the compiler called them (null: no IR, an error was reported). */
const returned: (Record<string, unknown> | null)[] = []
const SPIED = new Set(['cors', 'ip', 'rewrite'])
const registry = new PolicyRegistry(POLICIES.map((p): CompilePolicy => (SPIED.has(p.kind)
  ? { ...p, check: (ctx, s, scope) => { const r = p.check(ctx, s, scope); returned.push(r === undefined ? null : { ...r }); return r } }
  : p)))

/** One diagnostic on one line: `severity code line:col+len «underlined text»: message | label | hint | note …`. */
function show(d: Diagnostic, lines: string[]): string {
  const at = (line: number, col: number, len: number) => `${line}:${col}+${len} «${lines[line - 1].slice(col - 1, col - 1 + len)}»`
  assert.equal(d.file, 'p.gwp')
  assert.deepEqual(Object.keys(d).filter(k => !['code', 'severity', 'message', 'file', 'line', 'col', 'len', 'label', 'hint', 'notes'].includes(k)), [])
  return [
    `${d.severity} ${d.code} ${at(d.line, d.col, d.len)}: ${d.message}`,
    d.label !== undefined ? `label: ${d.label}` : undefined,
    d.hint !== undefined ? `hint: ${d.hint}` : undefined,
    ...(d.notes ?? []).map(n => { assert.equal(n.file, 'p.gwp'); return `note ${at(n.line, n.col, n.len)}: ${n.message}` }),
  ].filter(x => x !== undefined).join(' | ')
}

/** Line 4 on: the statements, one a line, in a route matching `match` (by default `path prefix "/v1"`). */
const route = (stmts: string[], match = 'path prefix "/v1"'): string =>
  `upstream a { replicas 10.0.0.1:80 }\nroute r {\n  match ${match}\n  ${stmts.join('\n  ')}\n  timeout 1s\n  proxy a\n}\n`

function run(text: string): { diags: string[]; stages: (Record<string, unknown> | null)[] } {
  returned.length = 0
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }), policies: registry })
  const lines = text.split('\n')
  // `source` is pinned once per kind below
  return { diags: r.diagnostics.map(d => show(d, lines)), stages: returned.map(x => (x === null ? null : (({ source: _, ...rest }) => rest)(x))) }
}

/** [statement(s), every diagnostic of the file, what each wrapped check returned, the route's match]. */
type Case = [string | string[], string[], (Record<string, unknown> | null)[], string?]

function check(cases: Case[]): void {
  for (const [stmts, diags, stages, match] of cases) {
    const got = run(route(Array.isArray(stmts) ? stmts : [stmts], match))
    assert.deepEqual(got, { diags, stages }, `${stmts}${match ? ` (match ${match})` : ''}`)
  }
}

test('cors: origins in normal form, wildcards apart, methods, headers, max_age; every refusal and warning whole', () => {
  check([
    ['cors origins "HTTPS://App.Example.COM:443", "http://x.example.com:80", "http://x.example.com:443", "https://b.example.com:80", "https://*.q.example.com:8443", "http://127.0.0.1:8080", "http://[::1]:3000", "HTTP://[2001:DB8::1]", "web+app2.x-y://y.example.com", "https://a-b.c.example.com:1", "https://z.example.com:65535", "https://*.A-1.Example.org" methods GET, PATCH, M-SEARCH headers X-Trace, Content-Type expose ETag, X-Request-Id max_age 7200s',
      [],
      [{ kind: 'cors', origins: ['https://app.example.com', 'http://x.example.com', 'http://x.example.com:443', 'https://b.example.com:80', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://[2001:db8::1]', 'web+app2.x-y://y.example.com', 'https://a-b.c.example.com:1', 'https://z.example.com:65535'], wildcards: ['https://*.q.example.com:8443', 'https://*.a-1.example.org'], methods: ['GET', 'PATCH', 'M-SEARCH'], headers: ['x-trace', 'content-type'], expose: ['etag', 'x-request-id'], credentials: false, maxAgeS: 7200 }]],
    ['cors origins "https://app.example.com"',
      [],
      [{ kind: 'cors', origins: ['https://app.example.com'], wildcards: [], methods: ['GET', 'HEAD', 'POST'], headers: [], expose: [], credentials: false, maxAgeS: null }]],
    ['cors origins "*" expose etag max_age 0s',
      [],
      [{ kind: 'cors', origins: ['*'], wildcards: [], methods: ['GET', 'HEAD', 'POST'], headers: [], expose: ['etag'], credentials: false, maxAgeS: 0 }]],
    ['cors origins "null", "https://app.example.com" credentials max_age 24h',
      [
        'warning W0760 4:16+6 «"null"»: origin `null` is listed | label: sandboxed iframes, `file:` pages and redirects of any site send `Origin: null` | hint: serve the page from a real origin and list that instead',
        'warning W0761 4:70+3 «24h»: Chromium keeps a preflight at most 2h, not `24h` | label: longer than browsers honour | hint: write `max_age 2h` or less',
      ],
      [{ kind: 'cors', origins: ['null', 'https://app.example.com'], wildcards: [], methods: ['GET', 'HEAD', 'POST'], headers: [], expose: [], credentials: true, maxAgeS: 86400 }]],
    ['cors origins "https://app.example.com" max_age 7201s',
      [
        'warning W0761 4:50+5 «7201s»: Chromium keeps a preflight at most 2h, not `7201s` | label: longer than browsers honour | hint: write `max_age 2h` or less',
      ],
      [{ kind: 'cors', origins: ['https://app.example.com'], wildcards: [], methods: ['GET', 'HEAD', 'POST'], headers: [], expose: [], credentials: false, maxAgeS: 7201 }]],
    ['cors origins "https://app.example.com" max_age 86401s',
      [
        'error E0474 4:50+6 «86401s»: `max_age` must be whole seconds from 0s to 24h, got `86401s` | label: longer than any browser keeps a preflight | hint: write e.g. `max_age 10m`',
      ],
      [null]],
    ['cors origins "https://app.example.com" max_age 1500ms',
      [
        'error E0474 4:50+6 «1500ms»: `max_age` must be whole seconds from 0s to 24h, got `1500ms` | label: Access-Control-Max-Age counts whole seconds | hint: write e.g. `max_age 10m`',
      ],
      [null]],
    ['cors origins "https://app.example.com" max_age 10',
      [
        'error E0304 4:50+2 «10»: `10` has no unit, but `max_age` takes a duration | label: unit missing | hint: write it with a unit, e.g. `800ms`, `2s`, `5m`',
      ],
      [null]],
    ['cors origins "app.example.com", "///app.example.com", "1http://a.example.com", "https:/a.example.com", "app.example.com:8080"',
      [
        'error E0470 4:16+17 «"app.example.com"»: `app.example.com` is not an origin | label: an origin starts with a scheme | hint: write `https://app.example.com`',
        'error E0470 4:35+20 «"///app.example.com"»: `///app.example.com` is not an origin | label: an origin starts with a scheme | hint: write `https://app.example.com`',
        'error E0470 4:57+23 «"1http://a.example.com"»: `1http://a.example.com` is not an origin | label: an origin starts with a scheme | hint: write it as `scheme://host[:port]`, e.g. `https://app.example.com`',
        'error E0470 4:82+22 «"https:/a.example.com"»: `https:/a.example.com` is not an origin | label: an origin starts with a scheme | hint: write it as `scheme://host[:port]`, e.g. `https://app.example.com`',
        'error E0470 4:106+22 «"app.example.com:8080"»: `app.example.com:8080` is not an origin | label: an origin starts with a scheme | hint: write `https://app.example.com:8080`',
      ],
      [null]],
    ['cors origins "HTTPS://App.Example.com/", "https://a.example.com:8443/v1", "https://a.example.com?x", "https://a.example.com#f", "https://u:p@a.example.com"',
      [
        'error E0470 4:16+26 «"HTTPS://App.Example.com/"»: `HTTPS://App.Example.com/` is not an origin | label: an origin has no trailing `/` | hint: write `https://App.Example.com`: an origin is scheme, host and port',
        'error E0470 4:44+31 «"https://a.example.com:8443/v1"»: `https://a.example.com:8443/v1` is not an origin | label: an origin has no path, query or fragment | hint: write `https://a.example.com:8443`: an origin is scheme, host and port',
        'error E0470 4:77+25 «"https://a.example.com?x"»: `https://a.example.com?x` is not an origin | label: an origin has no path, query or fragment | hint: write `https://a.example.com`: an origin is scheme, host and port',
        'error E0470 4:104+25 «"https://a.example.com#f"»: `https://a.example.com#f` is not an origin | label: an origin has no path, query or fragment | hint: write `https://a.example.com`: an origin is scheme, host and port',
        'error E0470 4:131+27 «"https://u:p@a.example.com"»: `https://u:p@a.example.com` is not an origin | label: an origin has no user name or password | hint: remove the part before `@`',
      ],
      [null]],
    ['cors origins "https://", "HTTPS://:8080", "https://a.example.com:x8", "https://[::1"',
      [
        'error E0470 4:16+10 «"https://"»: `https://` is not an origin | label: no host | hint: write e.g. `https://app.example.com`',
        'error E0470 4:28+15 «"HTTPS://:8080"»: `HTTPS://:8080` is not an origin | label: no host | hint: write e.g. `https://app.example.com`',
        'error E0470 4:45+26 «"https://a.example.com:x8"»: `https://a.example.com:x8` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
        'error E0470 4:73+14 «"https://[::1"»: `https://[::1` is not an origin | label: no host | hint: write e.g. `https://app.example.com`',
      ],
      [null]],
    ['cors origins "https://a.example.com:", "https://a.example.com:0", "https://a.example.com:65536", "https://a.example.com:080", "http://[::1]:00"',
      [
        'error E0470 4:16+24 «"https://a.example.com:"»: `https://a.example.com:` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
        'error E0470 4:42+25 «"https://a.example.com:0"»: `https://a.example.com:0` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
        'error E0470 4:69+29 «"https://a.example.com:65536"»: `https://a.example.com:65536` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
        'error E0470 4:100+27 «"https://a.example.com:080"»: `https://a.example.com:080` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
        'error E0470 4:129+17 «"http://[::1]:00"»: `http://[::1]:00` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
      ],
      [null]],
    ['cors origins "https://[zz]", "http://[1.2.3.4]:8080", "http://[::1]", "http://[2001:db8::1::2]"',
      [
        'error E0470 4:16+14 «"https://[zz]"»: `https://[zz]` is not an origin | label: not an IPv6 address | hint: write an IPv6 address in brackets, as in `http://[::1]:8080`',
        'error E0470 4:32+23 «"http://[1.2.3.4]:8080"»: `http://[1.2.3.4]:8080` is not an origin | label: not an IPv6 address | hint: write an IPv6 address in brackets, as in `http://[::1]:8080`',
        'error E0470 4:73+25 «"http://[2001:db8::1::2]"»: `http://[2001:db8::1::2]` is not an origin | label: not an IPv6 address | hint: write an IPv6 address in brackets, as in `http://[::1]:8080`',
      ],
      [null]],
    ['cors origins "https://-a.example.com", "https://a-.example.com", "https://a..example.com", "https://a.example.com.", "https://*.a_b.example.com", "https://*.example..com"',
      [
        'error E0470 4:16+24 «"https://-a.example.com"»: `https://-a.example.com` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
        'error E0470 4:42+24 «"https://a-.example.com"»: `https://a-.example.com` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
        'error E0470 4:68+24 «"https://a..example.com"»: `https://a..example.com` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
        'error E0470 4:94+24 «"https://a.example.com."»: `https://a.example.com.` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
        'error E0470 4:120+27 «"https://*.a_b.example.com"»: `https://*.a_b.example.com` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
        'error E0470 4:149+24 «"https://*.example..com"»: `https://*.example..com` is not an origin | label: not a host name | hint: a host is labels of letters, digits and `-` separated by `.`',
      ],
      [null]],
    ['cors origins "https://a*.example.com", "https://a*", "HTTP://*.*.Example.com", "https://x.*", "https://*.org", "https://*:8443", "https://*.", "http://*.co.uk"',
      [
        'error E0471 4:16+24 «"https://a*.example.com"»: `https://a*.example.com`: `*` can only stand for whole labels at the start of the host | label: the `*` is inside a label, or not first | hint: write `https://*.example.com`',
        'error E0471 4:42+12 «"https://a*"»: `https://a*`: `*` can only stand for whole labels at the start of the host | label: the `*` is inside a label, or not first | hint: write `https://*.example.com`',
        'error E0471 4:56+24 «"HTTP://*.*.Example.com"»: `HTTP://*.*.Example.com`: `*` can only stand for whole labels at the start of the host | label: the `*` is inside a label, or not first | hint: write `http://*.example.com`',
        'error E0471 4:82+13 «"https://x.*"»: `https://x.*`: `*` can only stand for whole labels at the start of the host | label: the `*` is inside a label, or not first | hint: write `https://*.x`',
        'error E0471 4:97+15 «"https://*.org"»: `https://*.org` is too broad: it would allow every site under `.org` | label: a wildcard needs a domain of at least two labels after it | hint: name the domain: `https://*.example.org`',
        'error E0471 4:114+16 «"https://*:8443"»: `https://*:8443` is too broad: it would allow every site | label: a wildcard needs a domain of at least two labels after it | hint: name the domain: `https://*.example.com`',
        'error E0471 4:132+12 «"https://*."»: `https://*.` is too broad: it would allow every site under `.` | label: a wildcard needs a domain of at least two labels after it | hint: name the domain: `https://*.example.`',
      ],
      [null]],
    ['cors methods GET credentials',
      [
        'error E0478 4:3+4 «cors»: `cors` names no origins | label: which pages may call this route? | hint: add e.g. `origins "https://app.example.com"`',
      ],
      [null]],
    ['cors origins "https://a.example.com", "HTTPS://A.example.com:443", "*", "*" methods GET, PUT, GET, get headers x-a, X-A expose etag, ETag',
      [
        'error E0473 4:41+27 «"HTTPS://A.example.com:443"»: origin `https://a.example.com` is listed twice | label: listed again here | hint: remove one of them | note 4:16+23 «"https://a.example.com"»: first listed here',
        'error E0479 4:70+3 «"*"»: `*` allows every origin, so the other origins listed mean nothing | label: any origin | hint: keep `"*"` alone, or list the origins without it',
        'error E0473 4:75+3 «"*"»: origin `*` is listed twice | label: listed again here | hint: remove one of them | note 4:70+3 «"*"»: first listed here',
        'error E0473 4:97+3 «GET»: method `GET` is listed twice | label: listed again here | hint: remove one of them | note 4:87+3 «GET»: first listed here',
        'error E0475 4:102+3 «get»: `get` is not an HTTP method | label: methods are case-sensitive | hint: write `GET`',
        'error E0473 4:119+3 «X-A»: header `x-a` is listed twice | label: listed again here | hint: remove one of them | note 4:114+3 «x-a»: first listed here',
        'error E0473 4:136+4 «ETag»: exposed header `etag` is listed twice | label: listed again here | hint: remove one of them | note 4:130+4 «etag»: first listed here',
      ],
      [null]],
    ['cors origins "*", "https://a.example.com"',
      [
        'error E0479 4:16+3 «"*"»: `*` allows every origin, so the other origins listed mean nothing | label: any origin | hint: keep `"*"` alone, or list the origins without it',
      ],
      [null]],
    ['cors origins "*" credentials',
      [
        'error E0472 4:20+11 «credentials»: `credentials` with origin `*`: browsers refuse `Access-Control-Allow-Origin: *` on a request with credentials | label: credentials | hint: list the origins that may send credentials (the gateway echoes the one that matched) | note 4:16+3 «"*"»: any origin',
      ],
      [null]],
    ['cors credentials origins "https://a.example.com", "*"',
      [
        'error E0472 4:8+11 «credentials»: `credentials` with origin `*`: browsers refuse `Access-Control-Allow-Origin: *` on a request with credentials | label: credentials | hint: list the origins that may send credentials (the gateway echoes the one that matched) | note 4:53+3 «"*"»: any origin',
        'error E0479 4:53+3 «"*"»: `*` allows every origin, so the other origins listed mean nothing | label: any origin | hint: keep `"*"` alone, or list the origins without it',
      ],
      [null]],
    ['cors origins "https://app.example.com", "https://*.example.com", "https://example.com", "http://app.example.com", "https://app.example.com:8443", "https://x.a.example.com", "https://*.a.example.com"',
      [
        'warning W0762 4:16+25 «"https://app.example.com"»: origin `https://app.example.com` is already covered by `https://*.example.com` | label: never needed | hint: remove it, or the wildcard if it is too broad | note 4:43+23 «"https://*.example.com"»: the wildcard',
        'warning W0762 4:149+25 «"https://x.a.example.com"»: origin `https://x.a.example.com` is already covered by `https://*.example.com` | label: never needed | hint: remove it, or the wildcard if it is too broad | note 4:43+23 «"https://*.example.com"»: the wildcard',
      ],
      [{ kind: 'cors', origins: ['https://app.example.com', 'https://example.com', 'http://app.example.com', 'https://app.example.com:8443', 'https://x.a.example.com'], wildcards: ['https://*.example.com', 'https://*.a.example.com'], methods: ['GET', 'HEAD', 'POST'], headers: [], expose: [], credentials: false, maxAgeS: null }]],
    ['cors origins "https://*.example.com", "https://*.example.com"',
      [
        'error E0473 4:41+23 «"https://*.example.com"»: origin `https://*.example.com` is listed twice | label: listed again here | hint: remove one of them | note 4:16+23 «"https://*.example.com"»: first listed here',
      ],
      [null]],
    ['cors origins "https://a.example.com" headers "*", x-a expose "*", "x y"',
      [
        'error E0476 4:48+3 «"*"»: `*` in `headers` is not supported | label: name each header | hint: list the headers the page sends: a wildcard never covers `Authorization` and means nothing with credentials',
        'error E0476 4:64+3 «"*"»: `*` in `expose` is not supported | label: name each header | hint: list the headers the page reads: a wildcard never covers `Authorization` and means nothing with credentials',
        'error E0306 4:69+5 «"x y"»: `x y` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)',
      ],
      [null]],
    ['cors origins "https://a.example.com" headers "x y" expose x-a',
      [
        'error E0306 4:48+5 «"x y"»: `x y` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)',
      ],
      [null]],
    ['cors origins "https://a.example.com" headers x-a expose "x y"',
      [
        'error E0306 4:59+5 «"x y"»: `x y` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)',
      ],
      [null]],
    ['cors origins "https://a.example.com" origins "https://b.example.com" methods GET credentials origins "https://c.example.com" credentials',
      [
        'error E0103 4:40+7 «origins»: `origins` is given twice in `cors` | label: given again here | hint: list every value in one clause | note 4:8+7 «origins»: first given here',
        'error E0103 4:96+7 «origins»: `origins` is given twice in `cors` | label: given again here | hint: list every value in one clause | note 4:8+7 «origins»: first given here',
        'error E0103 4:128+11 «credentials»: `credentials` is given twice in `cors` | label: given again here | hint: list every value in one clause | note 4:84+11 «credentials»: first given here',
      ],
      [null]],
    ['cors origins "https://a.example.com/v1\\nx", "https://a:b:8080", "https://a.example.com:8x"',
      [
        'error E0470 4:16+29 «"https://a.example.com/v1\\nx"»: `https://a.example.com/v1\\nx` is not an origin | label: an origin starts with a scheme | hint: write it as `scheme://host[:port]`, e.g. `https://app.example.com`',
        'error E0470 4:47+18 «"https://a:b:8080"»: `https://a:b:8080` is not an origin | label: no host | hint: write e.g. `https://app.example.com`',
        'error E0470 4:67+26 «"https://a.example.com:8x"»: `https://a.example.com:8x` is not an origin | label: bad port | hint: a port is a number from 1 to 65535',
      ],
      [null]],
    ['cors origins "https://a.example.com" headers "*"',
      [
        'error E0476 4:48+3 «"*"»: `*` in `headers` is not supported | label: name each header | hint: list the headers the page sends: a wildcard never covers `Authorization` and means nothing with credentials',
      ],
      [null]],
    ['cors origins "https://a.example.com" headers x-a, X-A',
      [
        'error E0473 4:53+3 «X-A»: header `x-a` is listed twice | label: listed again here | hint: remove one of them | note 4:48+3 «x-a»: first listed here',
      ],
      [null]],
    ['cors origins "https://a.example.com" methods GET, GET',
      [
        'error E0473 4:53+3 «GET»: method `GET` is listed twice | label: listed again here | hint: remove one of them | note 4:48+3 «GET»: first listed here',
      ],
      [null]],
    ['cors origins "https://a.example.com" methods get, Put, PUT',
      [
        'error E0475 4:48+3 «get»: `get` is not an HTTP method | label: methods are case-sensitive | hint: write `GET`',
        'error E0475 4:53+3 «Put»: `Put` is not an HTTP method | label: methods are case-sensitive | hint: write `PUT`',
      ],
      [null]],
  ])
})

test('ip: entries in normal form, host bits, entries covered in one list and across the two, lists refusing everyone', () => {
  check([
    ['ip allow "10.0.0.0/8", "192.168.1.7", "2001:DB8::/32", "::FFFF:172.16.0.0/108", "::1", "fe80::0:0:1", "2001:DB9:0:0:1:0:0:0"',
      [],
      [{ kind: 'ip', mode: 'allow', entries: ['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32', '172.16.0.0/12', '::1/128', 'fe80::1/128', '2001:db9:0:0:1::/128'] }]],
    ['ip deny "10.0.0.1/8", "2001:db8::1/32", "::ffff:10.1.2.3/120", "10.0.0.0/0"',
      [
        'warning W0780 4:11+12 «"10.0.0.1/8"»: `10.0.0.1/8` has host bits set: it is matched as `10.0.0.0/8` | label: bits after the first 8 are ignored | hint: write `10.0.0.0/8`, or `/32` for the one address',
        'warning W0781 4:11+12 «"10.0.0.1/8"»: `10.0.0.1/8` is inside `0.0.0.0/0`, also in this deny list | label: this entry changes nothing | hint: remove it | note 4:66+12 «"10.0.0.0/0"»: the broader entry',
        'warning W0780 4:25+16 «"2001:db8::1/32"»: `2001:db8::1/32` has host bits set: it is matched as `2001:db8::/32` | label: bits after the first 32 are ignored | hint: write `2001:db8::/32`, or `/128` for the one address',
        'warning W0780 4:43+21 «"::ffff:10.1.2.3/120"»: `::ffff:10.1.2.3/120` has host bits set: it is matched as `10.1.2.0/24` | label: bits after the first 24 are ignored | hint: write `10.1.2.0/24`, or `/32` for the one address',
        'warning W0781 4:43+21 «"::ffff:10.1.2.3/120"»: `::ffff:10.1.2.3/120` is inside `10.0.0.0/8`, also in this deny list | label: this entry changes nothing | hint: remove it | note 4:11+12 «"10.0.0.1/8"»: the broader entry',
        'warning W0780 4:66+12 «"10.0.0.0/0"»: `10.0.0.0/0` has host bits set: it is matched as `0.0.0.0/0` | label: bits after the first 0 are ignored | hint: write `0.0.0.0/0`, or `/32` for the one address',
      ],
      [{ kind: 'ip', mode: 'deny', entries: ['2001:db8::/32', '0.0.0.0/0'] }]],
    ['ip allow "10.0.0.0/8", "10.0.0.0/8", "10.1.0.0/16", "172.16.5.0/24", "172.16.0.0/12", "::ffff:10.0.0.0/104", "2001:db8::/48", "2001:db8::/32"',
      [
        'warning W0781 4:26+12 «"10.0.0.0/8"»: `10.0.0.0/8` is listed twice in this allow list | label: this entry changes nothing | hint: remove it | note 4:12+12 «"10.0.0.0/8"»: first listed here',
        'warning W0781 4:40+13 «"10.1.0.0/16"»: `10.1.0.0/16` is inside `10.0.0.0/8`, also in this allow list | label: this entry changes nothing | hint: remove it | note 4:12+12 «"10.0.0.0/8"»: the broader entry',
        'warning W0781 4:55+15 «"172.16.5.0/24"»: `172.16.5.0/24` is inside `172.16.0.0/12`, also in this allow list | label: this entry changes nothing | hint: remove it | note 4:72+15 «"172.16.0.0/12"»: the broader entry',
        'warning W0781 4:89+21 «"::ffff:10.0.0.0/104"»: `::ffff:10.0.0.0/104` is listed twice in this allow list | label: this entry changes nothing | hint: remove it | note 4:12+12 «"10.0.0.0/8"»: first listed here',
        'warning W0781 4:112+15 «"2001:db8::/48"»: `2001:db8::/48` is inside `2001:db8::/32`, also in this allow list | label: this entry changes nothing | hint: remove it | note 4:129+15 «"2001:db8::/32"»: the broader entry',
      ],
      [{ kind: 'ip', mode: 'allow', entries: ['10.0.0.0/8', '172.16.0.0/12', '2001:db8::/32'] }]],
    ['ip deny "10.0.0.0/8", "10.9.9.9/8"',
      [
        'warning W0780 4:25+12 «"10.9.9.9/8"»: `10.9.9.9/8` has host bits set: it is matched as `10.0.0.0/8` | label: bits after the first 8 are ignored | hint: write `10.0.0.0/8`, or `/32` for the one address',
        'warning W0781 4:25+12 «"10.9.9.9/8"»: `10.9.9.9/8` is listed twice in this deny list | label: this entry changes nothing | hint: remove it | note 4:11+12 «"10.0.0.0/8"»: first listed here',
      ],
      [{ kind: 'ip', mode: 'deny', entries: ['10.0.0.0/8'] }]],
    ['ip allow "10.0.0.1/8", "300.1.1.1", "10.0.0", "010.0.0.1", "fe80::1%eth0", "10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/", "a.b"',
      [
        'warning W0780 4:12+12 «"10.0.0.1/8"»: `10.0.0.1/8` has host bits set: it is matched as `10.0.0.0/8` | label: bits after the first 8 are ignored | hint: write `10.0.0.0/8`, or `/32` for the one address',
        'error E0510 4:26+11 «"300.1.1.1"»: `300.1.1.1` is not an IP address or CIDR range | label: not an address | hint: write an IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `2001:db8::/32`',
        'error E0510 4:39+8 «"10.0.0"»: `10.0.0` is not an IP address or CIDR range | label: not an address | hint: write all four parts of an IPv4 address, as in `10.0.0.0/8`',
        'error E0510 4:49+11 «"010.0.0.1"»: `010.0.0.1` is not an IP address or CIDR range | label: not an address | hint: IPv4 parts have no leading zeros (`010` could be read as octal): write `10.0.0.1`',
        'error E0510 4:62+14 «"fe80::1%eth0"»: `fe80::1%eth0` is not an IP address or CIDR range | label: not an address | hint: a zone (`%eth0`) is not part of an address range: remove it',
        'error E0511 4:78+13 «"10.0.0.0/33"»: prefix length `/33` is out of range for an IPv4 address | label: IPv4 prefixes are 0 to 32 | hint: write at most `/32`',
        'error E0511 4:93+8 «"::/129"»: prefix length `/129` is out of range for an IPv6 address | label: IPv6 prefixes are 0 to 128 | hint: write at most `/128`',
        'error E0510 4:103+12 «"10.0.0.0/x"»: `10.0.0.0/x` has no valid prefix length after `/` | label: not a prefix length | hint: write a number of bits, as in `10.0.0.0/24`',
        'error E0510 4:117+11 «"10.0.0.0/"»: `10.0.0.0/` has no valid prefix length after `/` | label: not a prefix length | hint: write a number of bits, as in `10.0.0.0/24`',
        'error E0510 4:130+5 «"a.b"»: `a.b` is not an IP address or CIDR range | label: not an address | hint: write an IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `2001:db8::/32`',
      ],
      [null]],
    ['ip deny "0.0.0.0/0", "::/0"',
      [
        'error E0512 4:3+2 «ip»: this deny list refuses every client | label: both `0.0.0.0/0` and `::/0` are denied | hint: to close a route, answer it with `respond 403`; otherwise narrow the list',
      ],
      [null]],
    ['ip deny "0.0.0.0/0", "0.0.0.0/0", "::/0"',
      [
        'error E0512 4:3+2 «ip»: this deny list refuses every client | label: both `0.0.0.0/0` and `::/0` are denied | hint: to close a route, answer it with `respond 403`; otherwise narrow the list',
        'warning W0781 4:24+11 «"0.0.0.0/0"»: `0.0.0.0/0` is listed twice in this deny list | label: this entry changes nothing | hint: remove it | note 4:11+11 «"0.0.0.0/0"»: first listed here',
      ],
      [null]],
    ['ip deny "0.0.0.0/0", "::/1"',
      [],
      [{ kind: 'ip', mode: 'deny', entries: ['0.0.0.0/0', '::/1'] }]],
    ['ip allow "0.0.0.0/0", "::/0"',
      [],
      [{ kind: 'ip', mode: 'allow', entries: ['0.0.0.0/0', '::/0'] }]],
    [['ip allow "10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"', 'ip deny "10.0.0.0/8", "192.168.1.0/24", "172.16.0.0/12", "172.16.0.0/12", "172.16.1.0/24", "2001:db8:1::/48", "fd00::/8"'],
      [
        'warning W0782 4:12+12 «"10.0.0.0/8"»: allow entry `10.0.0.0/8` is dead: the deny entry `10.0.0.0/8` covers it | label: deny is checked first | hint: remove it, or narrow the deny entry',
        'warning W0782 5:43+15 «"172.16.0.0/12"»: deny entry `172.16.0.0/12` is dead: no allow entry of this route admits it | label: refused anyway by the allow list | hint: remove it; a deny entry matters only inside an allow entry',
        'warning W0781 5:60+15 «"172.16.0.0/12"»: `172.16.0.0/12` is listed twice in this deny list | label: this entry changes nothing | hint: remove it | note 5:43+15 «"172.16.0.0/12"»: first listed here',
        'warning W0781 5:77+15 «"172.16.1.0/24"»: `172.16.1.0/24` is inside `172.16.0.0/12`, also in this deny list | label: this entry changes nothing | hint: remove it | note 5:43+15 «"172.16.0.0/12"»: the broader entry',
        'warning W0782 5:113+10 «"fd00::/8"»: deny entry `fd00::/8` is dead: no allow entry of this route admits it | label: refused anyway by the allow list | hint: remove it; a deny entry matters only inside an allow entry',
      ],
      [{ kind: 'ip', mode: 'allow', entries: ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'] }, { kind: 'ip', mode: 'deny', entries: ['10.0.0.0/8', '192.168.1.0/24', '172.16.0.0/12', '2001:db8:1::/48', 'fd00::/8'] }]],
    [['ip allow "10.1.0.0/16", "10.2.0.0/16", "10.2.0.0/16"', 'ip deny "10.0.0.0/8"'],
      [
        'error E0512 4:3+2 «ip»: these IP rules refuse every client: the deny list covers every allow entry | label: nothing is left to allow | hint: to close a route, answer it with `respond 403`; otherwise narrow the deny list | note 4:12+13 «"10.1.0.0/16"»: `10.1.0.0/16` is denied by `10.0.0.0/8` | note 4:27+13 «"10.2.0.0/16"»: `10.2.0.0/16` is denied by `10.0.0.0/8`',
        'warning W0781 4:42+13 «"10.2.0.0/16"»: `10.2.0.0/16` is listed twice in this allow list | label: this entry changes nothing | hint: remove it | note 4:27+13 «"10.2.0.0/16"»: first listed here',
      ],
      [{ kind: 'ip', mode: 'allow', entries: ['10.1.0.0/16', '10.2.0.0/16'] }, { kind: 'ip', mode: 'deny', entries: ['10.0.0.0/8'] }]],
    [['ip deny "10.0.0.0/8"', 'ip allow "10.1.0.0/16"'],
      [
        'error E0512 5:3+2 «ip»: these IP rules refuse every client: the deny list covers every allow entry | label: nothing is left to allow | hint: to close a route, answer it with `respond 403`; otherwise narrow the deny list | note 5:12+13 «"10.1.0.0/16"»: `10.1.0.0/16` is denied by `10.0.0.0/8`',
      ],
      [{ kind: 'ip', mode: 'deny', entries: ['10.0.0.0/8'] }, { kind: 'ip', mode: 'allow', entries: ['10.1.0.0/16'] }]],
    [['ip allow "10.0.0.0/8"', 'rewrite strip "/v1"', 'ip deny "10.1.0.0/16"'],
      [],
      [{ kind: 'ip', mode: 'allow', entries: ['10.0.0.0/8'] }, { kind: 'rewrite', op: 'strip', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }, { kind: 'ip', mode: 'deny', entries: ['10.1.0.0/16'] }]],
    [['ip allow "10.0.0.0/8"', 'ip allow "10.1.0.0/16"'],
      [
        'error E0102 5:3+2 «ip»: an IP list of this kind is given twice in route `r` | label: a second list of the same kind | hint: merge the entries into one list (a route has at most one `ip allow` and one `ip deny`) | note 4:3+2 «ip»: first given here',
      ],
      [{ kind: 'ip', mode: 'allow', entries: ['10.0.0.0/8'] }, { kind: 'ip', mode: 'allow', entries: ['10.1.0.0/16'] }]],
  ])
})

test('rewrite: strip/prefix normal form of from and to, W0770 against the route\'s match, regex and replacement positions, host', () => {
  check([
    ['rewrite strip "/v1"',
      [],
      [{ kind: 'rewrite', op: 'strip', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite strip "/v1/a"',
      [
        'warning W0770 4:17+7 «"/v1/a"»: route `r` matches paths outside `/v1/a`, which go upstream unchanged | label: only part of the route is rewritten | hint: match `path prefix "/v1/a"` if only those paths belong to this route',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1/a', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite prefix "/v1" "/"',
      [],
      [{ kind: 'rewrite', op: 'prefix', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite prefix "/" "/api/v2"',
      [],
      [{ kind: 'rewrite', op: 'prefix', from: '', to: '/api/v2', pattern: null, replacement: null, hostMode: null, host: null }], 'path prefix "/"'],
    ['rewrite prefix "/v1" "/api/%7B~x"',
      [],
      [{ kind: 'rewrite', op: 'prefix', from: '/v1', to: '/api/%7B~x', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite strip "/"',
      [
        'error E0490 4:17+3 «"/"»: `rewrite strip "/"` removes nothing | label: the root is every path\'s prefix | hint: strip a longer prefix, e.g. `"/api"`',
      ],
      [null]],
    ['rewrite strip "v1"',
      [
        'error E0490 4:17+4 «"v1"»: the prefix `v1` does not start with `/` | label: not a path prefix | hint: write it as `/v1`',
      ],
      [null]],
    ['rewrite prefix "v1" "api"',
      [
        'error E0490 4:18+4 «"v1"»: the prefix `v1` does not start with `/` | label: not a path prefix | hint: write it as `/v1`',
        'error E0490 4:23+5 «"api"»: the replacement `api` does not start with `/` | label: not a path prefix | hint: write it as `/api`',
      ],
      [null]],
    ['rewrite strip "/v1 x"',
      [
        'error E0490 4:17+7 «"/v1 x"»: the prefix `/v1 x` has a character a path cannot hold as is | label: not a path prefix | hint: percent-encode it with upper-case hex (`%20`); a prefix has no `?` or `#`',
      ],
      [null]],
    ['rewrite strip "/v1?x"',
      [
        'error E0490 4:17+7 «"/v1?x"»: the prefix `/v1?x` has a character a path cannot hold as is | label: not a path prefix | hint: percent-encode it with upper-case hex (`%20`); a prefix has no `?` or `#`',
      ],
      [null]],
    ['rewrite strip "/v1#x"',
      [
        'error E0490 4:17+7 «"/v1#x"»: the prefix `/v1#x` has a character a path cannot hold as is | label: not a path prefix | hint: percent-encode it with upper-case hex (`%20`); a prefix has no `?` or `#`',
      ],
      [null]],
    ['rewrite strip "/v1%2fx"',
      [
        'error E0490 4:17+9 «"/v1%2fx"»: the prefix `/v1%2fx` has a character a path cannot hold as is | label: not a path prefix | hint: percent-encode it with upper-case hex (`%20`); a prefix has no `?` or `#`',
      ],
      [null]],
    ['rewrite strip "/v1/./x"',
      [
        'error E0490 4:17+9 «"/v1/./x"»: the prefix `/v1/./x` is not in normal form | label: not a path prefix | hint: requests are matched and rewritten in normal form: write `/v1/x`',
      ],
      [null]],
    ['rewrite strip "/v1%2Fx"',
      [
        'error E0490 4:17+9 «"/v1%2Fx"»: the prefix `/v1%2Fx` is not in normal form | label: not a path prefix | hint: an encoded `/`, `\\` or NUL never reaches a route',
      ],
      [null]],
    ['rewrite strip "/v1/%7E"',
      [
        'error E0490 4:17+9 «"/v1/%7E"»: the prefix `/v1/%7E` is not in normal form | label: not a path prefix | hint: requests are matched and rewritten in normal form: write `/v1/~`',
      ],
      [null]],
    ['rewrite strip "/v1/"',
      [
        'error E0490 4:17+6 «"/v1/"»: the prefix `/v1/` ends with `/` | label: not a path prefix | hint: write `/v1`: a prefix covers the path itself and everything below it',
      ],
      [null]],
    ['rewrite prefix "/v1" "/api/"',
      [
        'error E0490 4:24+7 «"/api/"»: the replacement `/api/` ends with `/` | label: not a path prefix | hint: write `/api`: a prefix covers the path itself and everything below it',
      ],
      [null]],
    ['rewrite prefix "/v1" "/a/../b"',
      [
        'error E0490 4:24+9 «"/a/../b"»: the replacement `/a/../b` is not in normal form | label: not a path prefix | hint: requests are matched and rewritten in normal form: write `/b`',
      ],
      [null]],
    ['rewrite strip "/api"',
      [
        'warning W0770 4:17+6 «"/api"»: `rewrite` never applies: route `r` matches `/v1`, outside `/api` | label: this prefix is never seen | hint: rewrite a prefix of `/v1`',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/api', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite strip "/v1/admin"',
      [
        'warning W0770 4:17+11 «"/v1/admin"»: route `r` matches paths outside `/v1/admin`, which go upstream unchanged | label: only part of the route is rewritten | hint: match `path prefix "/v1/admin"` if only those paths belong to this route',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1/admin', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite strip "/v1x"',
      [
        'warning W0770 4:17+6 «"/v1x"»: `rewrite` never applies: route `r` matches `/v1`, outside `/v1x` | label: this prefix is never seen | hint: rewrite a prefix of `/v1`',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1x', to: '', pattern: null, replacement: null, hostMode: null, host: null }]],
    ['rewrite strip "/v1/admin"',
      [
        'warning W0770 4:17+11 «"/v1/admin"»: `rewrite` never applies: route `r` matches `/v1/x`, outside `/v1/admin` | label: this prefix is never seen | hint: rewrite a prefix of `/v1/x`',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1/admin', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1/x"'],
    ['rewrite strip "/v1/admin"',
      [
        'warning W0770 4:17+11 «"/v1/admin"»: `rewrite` never applies: route `r` matches `/v1`, outside `/v1/admin` | label: this prefix is never seen | hint: rewrite a prefix of `/v1`',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1/admin', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1"'],
    // the root prefix covers every path, even one the match refuses (no W0770 beside that error)
    ['rewrite prefix "/" "/x"',
      [
        'error E0306 3:21+4 «"v1"»: path `v1` must start with `/` | label: not an absolute path | hint: write `/v1`',
      ],
      [{ kind: 'rewrite', op: 'prefix', from: '', to: '/x', pattern: null, replacement: null, hostMode: null, host: null }], 'path prefix "v1"'],
    ['rewrite strip "/v1"',
      [],
      [{ kind: 'rewrite', op: 'strip', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1"'],
    ['rewrite strip "/v1"',
      [],
      [{ kind: 'rewrite', op: 'strip', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1/x"'],
    ['rewrite strip "/v1"',
      [
        'warning W0770 4:17+5 «"/v1"»: `rewrite` never applies: route `r` matches `/v1x`, outside `/v1` | label: this prefix is never seen | hint: rewrite a prefix of `/v1x`',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/v1', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1x"'],
    ['rewrite strip "/api"',
      [
        'warning W0770 4:17+6 «"/api"»: route `r` matches paths outside `/api`, which go upstream unchanged | label: only part of the route is rewritten | hint: match `path prefix "/api"` if only those paths belong to this route',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/api', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'host "api.example.com"'],
    ['rewrite strip "/api"',
      [
        'warning W0770 4:17+6 «"/api"»: route `r` matches paths outside `/api`, which go upstream unchanged | label: only part of the route is rewritten | hint: match `path prefix "/api"` if only those paths belong to this route',
      ],
      [{ kind: 'rewrite', op: 'strip', from: '/api', to: '', pattern: null, replacement: null, hostMode: null, host: null }], 'path prefix "/"'],
    ['rewrite prefix "/" "/x"',
      [],
      [{ kind: 'rewrite', op: 'prefix', from: '', to: '/x', pattern: null, replacement: null, hostMode: null, host: null }], 'path "/v1"'],
    ['rewrite regex "^/v1/([0-9]+)/(\\\\w+)$" "/u/$2/$1$$"',
      [],
      [{ kind: 'rewrite', op: 'regex', from: null, to: null, pattern: '^/v1/([0-9]+)/(\\w+)$', replacement: '/u/$2/$1$$', hostMode: null, host: null }]],
    ['rewrite regex "^/v1/(\\\\w+)/\\\\1$" "/u/$1"',
      [
        'error E0492 4:30+3 «\\\\1»: pattern refused: backreferences are not supported | label: not in the safe subset | hint: backreferences make matching exponential; match the text itself',
      ],
      [null]],
    ['rewrite regex "^/v1/\\"(x+$" "/u"',
      [
        'error E0491 4:25+1 «(»: bad pattern: unclosed group | label: here | hint: add the missing `)`',
      ],
      [null]],
    ['rewrite regex "^/v1/([0-9]+)$" "/u/\\"$2"',
      [
        'error E0493 4:40+2 «$2»: the pattern has no group 2 | label: here | hint: the pattern has 1 group',
      ],
      [null]],
    ['rewrite regex "^/v1/([0-9]+)$" "u/$1"',
      [
        'error E0493 4:35+1 «u»: the replacement does not start with `/` | label: here | hint: a rewritten path starts with `/`, e.g. `"/u/$1"`',
      ],
      [null]],
    ['rewrite host client',
      [],
      [{ kind: 'rewrite', op: 'host', from: null, to: null, pattern: null, replacement: null, hostMode: 'client', host: null }]],
    ['rewrite host replica',
      [],
      [{ kind: 'rewrite', op: 'host', from: null, to: null, pattern: null, replacement: null, hostMode: 'replica', host: null }]],
    ['rewrite host "API.Internal:8443"',
      [],
      [{ kind: 'rewrite', op: 'host', from: null, to: null, pattern: null, replacement: null, hostMode: 'fixed', host: 'api.internal:8443' }]],
    ['rewrite host "client"',
      [],
      [{ kind: 'rewrite', op: 'host', from: null, to: null, pattern: null, replacement: null, hostMode: 'fixed', host: 'client' }]],
    ['rewrite host "[::1]:80"',
      [],
      [{ kind: 'rewrite', op: 'host', from: null, to: null, pattern: null, replacement: null, hostMode: 'fixed', host: '[::1]:80' }]],
    ['rewrite host clinet',
      [
        'error E0494 4:16+6 «clinet»: `clinet` is not an upstream Host | label: expected `client`, `replica` or a quoted host | hint: did you mean `client`?',
      ],
      [null]],
    ['rewrite host replca',
      [
        'error E0494 4:16+6 «replca»: `replca` is not an upstream Host | label: expected `client`, `replica` or a quoted host | hint: did you mean `replica`?',
      ],
      [null]],
    ['rewrite host upstream',
      [
        'error E0494 4:16+8 «upstream»: `upstream` is not an upstream Host | label: expected `client`, `replica` or a quoted host | hint: write `client`, `replica`, or a host in quotes: `"api.internal"`',
      ],
      [null]],
    ['rewrite host "evil.example/x"',
      [
        'error E0494 4:16+16 «"evil.example/x"»: `evil.example/x` is not a valid Host | label: not a host[:port] | hint: write a DNS name, IPv4 or [IPv6] address, with an optional `:port`',
      ],
      [null]],
    ['rewrite host ""',
      [
        'error E0494 4:16+2 «""»: `` is not a valid Host | label: not a host[:port] | hint: write a DNS name, IPv4 or [IPv6] address, with an optional `:port`',
      ],
      [null]],
  ])
})

test('each stage IR holds where its statement starts', () => {
  returned.length = 0
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': route(['cors origins "https://a.example.com"', 'ip allow "10.0.0.0/8"', 'rewrite strip "/v1"']) }), policies: registry })
  assert.deepEqual(r.diagnostics, [])
  assert.deepEqual(returned.map(x => x?.source), [4, 5, 6].map(line => ({ file: 'p.gwp', line, col: 3 })))
})

const STRIP_API = { kind: 'rewrite', op: 'strip', from: '/api', to: '', pattern: null, replacement: null, hostMode: null, host: null }
test('rewrite in a policy: W0770 compares with the match of the route that uses it; a policy no route uses has no route to compare with', () => {
  const text = `upstream a { replicas 10.0.0.1:80 }
policy unused { rewrite strip "/api" }
policy used { rewrite strip "/api" }
route r { match path prefix "/v1"; use used; timeout 1s; proxy a }
`
  assert.deepEqual(run(text), {
    diags: [
      'warning W0709 2:8+6 «unused»: policy `unused` is never used | label: no route refers to it | hint: remove it, or refer to it from a route',
      'warning W0770 3:29+6 «"/api"»: `rewrite` never applies: route `r` matches `/v1`, outside `/api` | label: this prefix is never seen | hint: rewrite a prefix of `/v1`',
    ],
    stages: [STRIP_API, STRIP_API],
  })
  // the route's match, wherever the route writes it
  assert.deepEqual(run('upstream a { replicas 10.0.0.1:80 }\nroute r {\n  timeout 1s\n  rewrite strip "/api"\n  match path prefix "/v1"\n  proxy a\n}\n'), {
    diags: ['warning W0770 4:17+6 «"/api"»: `rewrite` never applies: route `r` matches `/v1`, outside `/api` | label: this prefix is never seen | hint: rewrite a prefix of `/v1`'],
    stages: [STRIP_API],
  })
})
