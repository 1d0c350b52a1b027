// lab/test/harness-measure.test.ts: one measured run against a real stub — the cost windows open when the load
// generator's measured window does (after the warm-up, on warm connections) and close after the drain, and costs
// are divided by the responses of that window.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { measure } from '../harness/measure.js'
import { closeControl } from '../harness/metrics-text.js'
import type { ProbeDriver } from '../harness/rig.js'
import type { ProbeResult } from '../probe/types.js'
import { startStub } from '../../testkit/upstream/stub.js'

const stub = await startStub({ count: 1 })
after(async () => { await closeControl(); await stub.close() })

/** A probe that records when it was driven and reports a fixed cost. */
function fakeProbe(): ProbeDriver & { startedAt: number; stoppedAt: number } {
  const p = {
    kind: 'node' as const, pid: process.pid, startedAt: 0, stoppedAt: 0,
    async start() { p.startedAt = performance.now() },
    async stop(): Promise<ProbeResult> {
      p.stoppedAt = performance.now()
      return {
        pid: process.pid, wallMs: p.stoppedAt - p.startedAt, cpu: { userUs: 600_000, systemUs: 400_000, totalUs: 1_000_000, share: 0.5 },
        heap: { allocatedBytes: 2_000_000, freedByGcBytes: 0, usedStartBytes: 0, usedEndBytes: 5e6 },
        gc: { count: 1, timeMs: 1, share: 0.01, byType: {} }, eventLoopDelayMs: { p50: 0, p99: 1, max: 3, mean: 0 },
        fds: { start: 10, end: 11 }, rssBytes: { start: 1, end: 2 },
      }
    },
  }
  return p
}

test('the cost windows open after the warm-up, on warm connections, and costs divide by the window\'s responses', async () => {
  const probe = fakeProbe()
  const t0 = performance.now()
  const r = await measure('s', 0, { name: 'direct', url: stub.url(), mix: [{ path: '/x' }], probe }, {
    model: 'closed', concurrency: 4, durationMs: 400, warmupMs: 300,
  }, { stubControlUrl: stub.url(), upstreamProbe: null, clock0: t0 })
  assert.ok(probe.startedAt - t0 >= 290, `window opened ${probe.startedAt - t0} ms in, before the warm-up ended`)
  assert.ok(probe.stoppedAt - probe.startedAt >= 390, 'the window spans the measured run')
  assert.equal(r.upstream.connectionsOpened, 0, 'the warm-up opened the connections; the measured window reuses them')
  assert.equal(r.load.clientConnectionsOpened, 4)
  assert.ok(r.load.completed > 0)
  assert.equal(r.proxy?.cpuUsPerRequest, Math.round((1_000_000 / r.load.completed) * 10) / 10)
  assert.equal(r.proxy?.heapBytesPerRequest, Math.round(2_000_000 / r.load.completed))
  assert.equal(r.proxy?.eventLoopDelayMaxMs, 3)
  assert.ok(Math.abs(r.startS - (probe.startedAt - t0) / 1000) < 0.05)
})
