// The fleet bench's Kafka floor: Kafka's own producer (ProducerPerformance, the rig's jars) sending the fleet's
// aggregate rate with the bench dataflow's settings. A PUBACK held until Kafka's ack can come no sooner than Kafka
// answers its own client on this machine, so this is the part of Flowgate's tail that is not Flowgate's.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { RigInfo } from '@flowgate/testkit'

const run = promisify(execFile)

export interface KafkaFloor {
  rate: number
  /** Send → ack per record (ProducerPerformance rounds to whole ms). */
  p50: number
  p99: number
  p999: number
  max: number
  records: number
}

export async function kafkaFloor (r: RigInfo, o: { topic: string, rate: number, warmupMs: number, measureMs: number, recordBytes: number, lingerMs: number }): Promise<KafkaFloor> {
  const warmup = Math.round(o.rate * o.warmupMs / 1000)
  const records = warmup + Math.round(o.rate * o.measureMs / 1000)
  const { stdout } = await run('java', ['-Xmx256m', '-cp', `${r.classpath}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', o.topic, '--num-records', String(records), '--warmup-records', String(warmup), '--record-size', String(o.recordBytes),
    '--throughput', String(o.rate), '--reporting-interval', String(o.warmupMs + o.measureMs + 60_000),
    '--producer-props', `bootstrap.servers=${r.listeners.plaintext}`, 'acks=all', `linger.ms=${o.lingerMs}`, 'enable.idempotence=true'],
  { maxBuffer: 1 << 24, timeout: o.warmupMs + o.measureMs + 120_000 })
  // "200000 steady state records sent, 9985.5 records/sec (2.44 MB/sec), 3.28 ms avg latency, 28.00 ms max latency,
  //  3 ms 50th, 6 ms 95th, 6 ms 99th, 9 ms 99.9th."
  const line = stdout.split('\n').find((l) => l.includes('steady state records sent'))
  if (line === undefined) throw new Error(`ProducerPerformance printed no steady-state line:\n${stdout.slice(-2000)}`)
  const num = (re: RegExp): number => Number(re.exec(line)?.[1] ?? NaN)
  return {
    records: num(/^(\d+) steady/),
    rate: num(/([\d.]+) records\/sec/),
    max: num(/([\d.]+) ms max latency/),
    p50: num(/([\d.]+) ms 50th/),
    p99: num(/([\d.]+) ms 99th/),
    p999: num(/([\d.]+) ms 99\.9th/)
  }
}
