import { open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** fsync a directory so that a rename, creation or deletion in it survives a power loss, not only a crash. */
export async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/**
 * Replaces a file so that a crash at any point leaves either the old or the new content, never a mix:
 * write a temporary file, fsync it, rename it over the target (atomic on POSIX), fsync the directory.
 */
export async function writeFileAtomic (path: string, content: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    const file = await open(tmp, 'w', mode)
    try {
      await file.writeFile(content)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await syncDir(dirname(path))
}
