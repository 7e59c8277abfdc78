import { open, readFile, unlink } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { FG_ERR_STORE_LOCKED } from './errors.js'
import { syncDir } from './atomic-file.js'

interface LockInfo { pid: number, start?: string, host?: string }

/** The kernel's start time of a process (/proc/<pid>/stat field 22), so a recycled pid is not taken for the holder. */
function processStart (pid: number): { start: string, zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2 (comm) is parenthesised and may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { start: fields[19] ?? '', zombie: fields[0] === 'Z' || fields[0] === 'X' }
  } catch {
    return undefined
  }
}

function holds (info: LockInfo): boolean {
  if (!Number.isInteger(info.pid) || info.pid <= 0) return false
  // The host name is written for people reading the file, not trusted: a container or pod restarted after a crash
  // comes back under a new host name, and refusing its own stale lock would keep it down for good.
  try {
    process.kill(info.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const proc = processStart(info.pid)
  if (proc === undefined) return true // no /proc: the pid answering is all we know
  if (proc.zombie) return false // killed, not yet reaped by its parent
  return info.start === undefined || info.start === proc.start
}

/**
 * One process owns a store directory (one machine: the file store is not for disks shared between hosts): `lock` holds its pid (and start time). A lock left by a dead process is taken
 * over; a live holder is refused with FG_ERR_STORE_LOCKED. Two processes starting at the same instant over the same
 * stale lock could both take it over (unlink, then create): the lock guards against a second `flowgate start` by
 * mistake, it is not a distributed lock.
 */
export async function acquireLock (dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'lock')
  const mine: LockInfo = { pid: process.pid, start: processStart(process.pid)?.start, host: hostname() }
  const content = JSON.stringify(mine) + '\n'
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try { await handle.writeFile(content); await handle.sync() } finally { await handle.close() }
      await syncDir(dir)
      return async () => {
        const now = await readFile(path, 'utf8').catch(() => '')
        if (now === content) await unlink(path).catch(() => {})
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const text = await readFile(path, 'utf8').catch(() => '')
    let info: LockInfo = { pid: 0 }
    try { info = JSON.parse(text) as LockInfo } catch { info = { pid: Number(text.trim()) || 0 } } // a torn or old-style lock
    if (info.pid !== process.pid && holds(info)) throw FG_ERR_STORE_LOCKED(dir, info.pid)
    // Stale (its process is gone), or ours from an instance of this process that did not close: take it over.
    await unlink(path).catch(() => {})
  }
  throw FG_ERR_STORE_LOCKED(dir, 0)
}
