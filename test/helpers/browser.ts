// Debian's Chromium driven by playwright-core, as the browser tests use it: headless, no download, a throwaway
// profile. .ci/run installs the package; without it the browser tests skip and say why.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** false when Chromium is installed, else the skip reason naming what the test (`what`) needs it for. */
export const browserSkip = (what: string): false | string =>
  existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium; .ci/run installs it): ${what} needs a real browser`

export interface Browser { context: BrowserContext; page: Page; close(): Promise<void> }

/** Starts Chromium with a fresh profile and opens `url` in its page. */
export async function openBrowser(url: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'gwp-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = context.pages()[0] ?? await context.newPage()
  await page.goto(url)
  return { context, page, async close() { await context.close(); rmSync(profile, { recursive: true, force: true }) } }
}
