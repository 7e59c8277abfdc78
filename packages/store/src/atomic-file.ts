import { open, rename, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Replaces a file so that a crash at any point leaves either the old or the new content, never a mix:
 * write a temporary file, fsync it, rename it over the target, fsync the directory (POSIX rename is atomic).
 */
export async function writeFileAtomic (path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const file = await open(tmp, 'w', 0o600)
  try {
    await file.writeFile(content)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  const dir = await open(dirname(path), 'r')
  try { await dir.sync() } finally { await dir.close() }
}

export async function readJsonIfExists<T> (path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
