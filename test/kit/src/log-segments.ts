import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { RigInfo } from './rig.js'

const run = promisify(execFile)

/** The partition directory of a topic in the broker's log dirs. */
function partitionDir (r: RigInfo, topic: string, partition: number): string {
  const want = `${topic}-${partition}`
  const stack = [r.dir]
  while (stack.length > 0) {
    const dir = stack.pop()!
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (!statSync(p).isDirectory()) continue
      if (name === want) return p
      if (!/-\d+$/.test(name) || name.startsWith('__')) stack.push(p)
    }
  }
  throw new Error(`no log directory ${want} under ${r.dir}`)
}

export interface StoredBatch { baseOffset: number, count: number, codec: string }

/** The record batches as the broker stored them, read with Kafka's own DumpLogSegments (org.apache.kafka.tools in Kafka 4, no longer kafka.tools). */
export async function storedBatches (r: RigInfo, topic: string, partition = 0): Promise<StoredBatch[]> {
  const dir = partitionDir(r, topic, partition)
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f))
  const { stdout } = await run('java', ['-cp', `${r.classpath}/*`, 'org.apache.kafka.tools.DumpLogSegments', '--files', logs.join(',')], { timeout: 60_000, maxBuffer: 1e8 })
  const out: StoredBatch[] = []
  for (const line of stdout.split('\n')) {
    const m = /baseOffset: (\d+) lastOffset: \d+ count: (\d+).*compresscodec: (\w+)/.exec(line)
    if (m) out.push({ baseOffset: Number(m[1]), count: Number(m[2]), codec: m[3]!.toLowerCase() })
  }
  return out
}

/** What Java's client would pick for each key: Utils.toPositive(Utils.murmur2(key)) % partitions, run on the rig's jars. */
export async function javaPartitions (r: RigInfo, keys: string[], partitions: number): Promise<number[]> {
  const src = join(r.dir, 'Murmur2.java')
  writeFileSync(src, `import org.apache.kafka.common.utils.Utils;
public class Murmur2 { public static void main(String[] a) { int n = Integer.parseInt(a[0]);
  for (int i = 1; i < a.length; i++) System.out.println(Utils.toPositive(Utils.murmur2(a[i].getBytes(java.nio.charset.StandardCharsets.UTF_8))) % n); } }`)
  const { stdout } = await run('java', ['-cp', `${r.classpath}/*`, src, String(partitions), ...keys], { timeout: 60_000 })
  return stdout.trim().split('\n').map(Number)
}

