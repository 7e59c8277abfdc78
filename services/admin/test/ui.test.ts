import t from 'tap'
import { testAdmin } from './helpers.js'

t.test('the web UI is served at / from this origin only, without the token', async (t) => {
  const admin = await testAdmin(t)
  const page = await fetch(admin.url + '/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), 'text/html')
  t.match(page.headers.get('content-security-policy'), "default-src 'self'")
  const html = await page.text()
  t.match(html, '<script type="module" src="/ui/app.js">')
  t.notMatch(html, /(src|href)="(https?:)?\/\//, 'no CDN or any other origin')
  for (const [file, type] of [['app.js', 'text/javascript'], ['tail.js', 'text/javascript'], ['style.css', 'text/css']] as const) {
    const res = await fetch(`${admin.url}/ui/${file}`)
    t.equal(res.status, 200, file)
    t.match(res.headers.get('content-type'), type)
  }
})

t.test('only the UI folder\'s own files are served', async (t) => {
  const admin = await testAdmin(t)
  for (const path of ['/ui/missing.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/']) {
    t.equal((await fetch(admin.url + path)).status, 404, path)
  }
})

t.test('every label in the UI names a control that exists', async (t) => {
  const admin = await testAdmin(t)
  const html = await (await fetch(admin.url + '/')).text()
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))
  const targets = [...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1])
  t.ok(targets.length > 20)
  t.same(targets.filter((id) => !ids.has(id)), [])
  const controls = [...html.matchAll(/<(?:input|select|textarea)\s[^>]*id="([^"]+)"/g)].map((m) => m[1])
  t.same(controls.filter((id) => !targets.includes(id)), [], 'every control has a label')
})
