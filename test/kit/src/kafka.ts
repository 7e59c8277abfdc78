import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { Kafka, logLevel, type KafkaConfig, type IHeaders } from 'kafkajs'
import { rig, type RigInfo } from './rig.js'

export type Listener = keyof RigInfo['listeners']

/** A kafkajs configuration that reaches the given rig listener with valid credentials. */
export function kafkaConfig (r: RigInfo, listener: Listener, clientId = 'flowgate-test'): KafkaConfig {
  const base: KafkaConfig = { clientId, brokers: [r.listeners[listener]], logLevel: logLevel.NOTHING, retry: { retries: 3 } }
  const ca = readFileSync(r.tls.ca, 'utf8')
  switch (listener) {
    case 'plaintext': return base
    case 'saslPlaintext': return { ...base, sasl: { mechanism: 'plain', ...r.users.plain } }
    case 'ssl': return { ...base, ssl: { ca, cert: readFileSync(r.tls.clientChain, 'utf8'), key: readFileSync(r.tls.clientKey, 'utf8') } }
    case 'saslSsl': return { ...base, ssl: { ca }, sasl: { mechanism: 'plain', ...r.users.eventhubs } }
    case 'oauthbearer': throw new Error('oauthbearer needs a token provider: build its config in the test')
  }
}

export function uniqueTopic (prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

export async function createTopic (topic: string, partitions = 1): Promise<void> {
  const admin = new Kafka(kafkaConfig(await rig(), 'plaintext', 'flowgate-test-admin')).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
}

export interface ReadRecord {
  topic: string
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  headers: Array<[string, Buffer]>
}

/** Headers in the order they were stored, repeated names kept (kafkajs folds repeats into arrays). */
function headerList (headers: IHeaders | undefined): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  for (const [name, value] of Object.entries(headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) out.push([name, Buffer.from(v)])
  }
  return out
}

/** Reads `count` records of a topic from the beginning, with their headers, or fails after `timeoutMs`. */
export async function readRecords (topic: string, count: number, { timeoutMs = 30_000, listener = 'plaintext' as Listener } = {}): Promise<ReadRecord[]> {
  const kafka = new Kafka(kafkaConfig(await rig(), listener, 'flowgate-test-reader'))
  const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), allowAutoTopicCreation: false })
  const records: ReadRecord[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length}/${count} records of ${topic} in ${timeoutMs} ms`)), timeoutMs)
      consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          records.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, timestamp: message.timestamp, headers: headerList(message.headers) })
          if (records.length >= count) { clearTimeout(timer); resolve() }
        }
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return records
}
