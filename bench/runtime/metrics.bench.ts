// bench/runtime/metrics.bench.ts: what recording a request's metrics costs — the pre-bound children the
// gateway uses (runtime/metrics.ts) against prom-client's own labels().inc()/observe(), which hash a label
// object on every call. docs/FINDINGS.md cites this file for why the gateway keeps its own children.
// Run: npm run build && node --expose-gc dist/bench/runtime/metrics.bench.js [--time MS] [--filter TEXT]
import { Counter, Histogram, Registry } from 'prom-client'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { createSuite } from './kit/suite.js'

const gm = new GatewayMetrics({ defaultMetrics: false })
const route = gm.route('orders_lookup')
const up = gm.upstream('orders')
const reg = new Registry()
const pc = new Counter({ name: 'pc_requests_total', help: 'x', labelNames: ['route', 'code'], registers: [reg] })
const ph = new Histogram({ name: 'pc_request_duration_seconds', help: 'x', labelNames: ['route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [reg] })
const pcBound = pc.labels('orders_lookup', '2xx')
const phBound = ph.labels('orders_lookup')

createSuite(import.meta.url, 'per-request metrics: pre-bound children vs prom-client labels')
  .add('gw: a request counted and timed (route + upstream children)', 'nothing: number fields and a Float64Array bucket',
    () => { route.byClass[1].inc(); route.duration.observe(0.0042); up.byOutcome['2xx'].inc(); up.duration.observe(0.0031) })
  .add('prom-client: the same four updates, labels bound once', 'a label object, its hash string and a values lookup per call',
    () => { pcBound.inc(); phBound.observe(0.0042); pcBound.inc(); phBound.observe(0.0031) })
  .add('prom-client: the same four updates, labels per call', 'as bound + the labels() call itself',
    () => { pc.labels('orders_lookup', '2xx').inc(); ph.labels('orders_lookup').observe(0.0042); pc.labels('orders', '2xx').inc(); ph.labels('orders').observe(0.0031) })
  .run()
