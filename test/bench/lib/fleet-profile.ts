// Reads a V8 CPU profile (.cpuprofile) and sums self time: per function and per package, so the fleet bench can
// print where the broker's busy time went in the measured window.
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface ProfileSummary {
  totalMs: number
  /** Not idle: everything but `(idle)`. */
  busyMs: number
  gcMs: number
  top: Array<{ name: string, selfMs: number, share: number }>
  byPackage: Array<{ name: string, selfMs: number, share: number }>
}

/** node_modules/.pnpm/<pkg>@<v>/node_modules/<pkg>/… → <pkg>; the repo's own files → their path; node internals → node:. */
function where (url: string): string {
  if (url === '') return '(native)'
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const m = /\/(packages|services)\/([^/]+)\//.exec(url)
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '')
}

export function summariseProfile (file: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0))
  const fn = new Map<string, number>()
  const pkg = new Map<string, number>()
  let total = 0; let idle = 0; let gc = 0
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    total += us
    if (functionName === '(idle)') { idle += us; continue }
    if (functionName === '(garbage collector)') gc += us
    const file = url.split('/').pop() ?? ''
    const name = `${functionName || '(anonymous)'} ${file ? `${where(url)} ${file}:${lineNumber + 1}` : ''}`.trim()
    fn.set(name, (fn.get(name) ?? 0) + us)
    const w = functionName.startsWith('(') ? functionName : where(url)
    pkg.set(w, (pkg.get(w) ?? 0) + us)
  }
  const busy = total - idle
  const rank = (m: Map<string, number>, n: number): ProfileSummary['top'] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, selfMs: us / 1000, share: us / busy }))
  return { totalMs: total / 1000, busyMs: busy / 1000, gcMs: gc / 1000, top: rank(fn, topN), byPackage: rank(pkg, 12) }
}

interface HeapNode { callFrame: { functionName: string, url: string, lineNumber: number }, selfSize: number, children: HeapNode[] }

export interface HeapSummary {
  /**
   * Sampled bytes allocated in the window that outlived a scavenge: alive at its end, or promoted and collected by a
   * mark-compact since (an estimate: V8 scales each sample by the sampling interval).
   */
  survivedMb: number
  /** By allocating function, and by the nearest caller outside node's own code (who asked for it). */
  top: Array<{ name: string, mb: number, share: number }>
  byPackage: Array<{ name: string, mb: number, share: number }>
}

/** A V8 sampling heap profile (.heapprofile, from HeapProfiler.stopSampling): surviving bytes by allocation site. */
export function summariseHeapProfile (file: string, topN = 20): HeapSummary {
  const root = (JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head
  const fn = new Map<string, number>()
  const pkg = new Map<string, number>()
  let total = 0
  const label = (f: HeapNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url ? `${where(f.url)} ${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`.trim()
  // Attributed to the innermost frame that is not node's own (a Buffer or a stream is allocated inside node: the
  // question is which package's code asked for it), shown with the frame that allocated it.
  const walk = (n: HeapNode, owner: HeapNode['callFrame'] | undefined): void => {
    const mine = n.callFrame.url !== '' && !n.callFrame.url.startsWith('node:') ? n.callFrame : owner
    if (n.selfSize > 0) {
      total += n.selfSize
      const name = mine && mine !== n.callFrame ? `${label(n.callFrame)} ← ${label(mine)}` : label(n.callFrame)
      fn.set(name, (fn.get(name) ?? 0) + n.selfSize)
      const w = mine ? where(mine.url) : '(node)'
      pkg.set(w, (pkg.get(w) ?? 0) + n.selfSize)
    }
    for (const c of n.children) walk(c, mine)
  }
  walk(root, undefined)
  const rank = (m: Map<string, number>, n: number): HeapSummary['top'] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, bytes]) => ({ name, mb: bytes / 2 ** 20, share: bytes / total }))
  return { survivedMb: total / 2 ** 20, top: rank(fn, topN), byPackage: rank(pkg, 12) }
}
