import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'

/**
 * `--pin`: the broker under test gets the last core to itself; Kafka, the load processes and the bench share the
 * others. On a small machine this separates what the broker costs from the time it waits for a core that Kafka's
 * JVM or the load generator holds (the kernel here keeps no run-queue statistics to measure that wait directly).
 */
export interface CpuPinning {
  /** The cores the broker under test runs on, as taskset writes them. */
  brokerCores: string
  otherCores: string
  /** Pins a broker's processes, every thread of each (V8's and libuv's too), to the broker's core. */
  pinBroker: (pids: number[]) => void
  /** Gives `others` (Kafka's rig outlives the bench) and this process every core again. */
  release: () => void
}

function taskset (cores: string, pid: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(pid)], { stdio: 'ignore' })
}

/** Pins `others` (and this process, so what it spawns later inherits that) off the last core; null on one core. */
export function pinCores (others: number[]): CpuPinning | null {
  const n = cpus().length
  if (n < 2) return null
  const brokerCores = String(n - 1)
  const otherCores = n === 2 ? '0' : `0-${n - 2}`
  for (const pid of [process.pid, ...others]) taskset(otherCores, pid)
  return {
    brokerCores,
    otherCores,
    pinBroker (pids) { for (const pid of pids) taskset(brokerCores, pid) },
    release () { for (const pid of [process.pid, ...others]) { try { taskset(`0-${n - 1}`, pid) } catch {} } }
  }
}
