// A Stryker test runner: the tap runner, but each mutant runs only the test files map.json lists for its source
// file (most specific first; the tap runner stops at the first failing file). Per-test coverage cannot see into the
// gw and upstream child processes many tests start, so the map, not coverage, picks the tests.
import { readFileSync } from 'node:fs'
import { declareFactoryPlugin, PluginKind, tokens, commonTokens } from '@stryker-mutator/api/plugin'
import { createTapTestRunnerFactory } from '@stryker-mutator/tap-runner'
import { testFilesFor } from './lib/map.mjs'

const map = JSON.parse(readFileSync(new URL('./map.json', import.meta.url), 'utf8'))

class MappedTapRunner {
  static inject = tokens(commonTokens.injector, commonTokens.logger)
  constructor(injector, log) {
    this.inner = createTapTestRunnerFactory()(injector)
    this.log = log
  }
  capabilities() { return this.inner.capabilities() }
  init() { return this.inner.init() }
  /**
   * The tap runner reports which mutants the test process reached; Stryker would then skip the others as "no
   * coverage" and run each mutant only against the test files that reached it in-process. Code that runs only
   * in a child gw would be misjudged, so that coverage is dropped: every mutant runs its mapped files.
   */
  async dryRun(options) {
    const r = await this.inner.dryRun(options)
    return r.status === 'complete' ? { ...r, mutantCoverage: undefined } : r
  }
  async mutantRun(options) {
    const files = testFilesFor(map, options.activeMutant.fileName)
    if (files === undefined) throw new Error(`mutation: no test files mapped for ${options.activeMutant.fileName}`)
    this.inner.testFiles = files
    return this.inner.mutantRun({ ...options, testFilter: undefined })
  }
  dispose() { return this.inner.dispose?.() }
}

function createMappedTapRunner(injector) { return injector.injectClass(MappedTapRunner) }
createMappedTapRunner.inject = tokens(commonTokens.injector)

export const strykerPlugins = [declareFactoryPlugin(PluginKind.TestRunner, 'mapped-tap', createMappedTapRunner)]
