import type { Test } from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Where the UI tests leave screenshots (and a failed test's last page). */
export const SHOTS = fileURLToPath(new URL('../../test-output/', import.meta.url))
mkdirSync(SHOTS, { recursive: true })
const CHROMIUM = process.env.FLOWGATE_CHROMIUM ?? '/usr/bin/chromium'
// Debian's Chromium, never a downloaded browser; without it these tests say how to get it rather than fail.
export const needsChromium = { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: apt-get install chromium (or set FLOWGATE_CHROMIUM)` }

export async function launch (t: Test): Promise<Page> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.setDefaultTimeout(30_000)
  // What the page showed when a test failed, for whoever reads the failure.
  t.teardown(async () => { if (!t.passing()) await page.screenshot({ path: SHOTS + `failed-${t.name.slice(0, 40).replace(/\W+/g, '-')}.png`, fullPage: true }).catch(() => {}) })
  return page
}

export async function signIn (page: Page, base: string, token: string): Promise<void> {
  await page.goto(base + '/')
  await page.getByLabel('Admin token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('#endpoints tbody tr', { hasText: 'default' }).first().waitFor()
}
