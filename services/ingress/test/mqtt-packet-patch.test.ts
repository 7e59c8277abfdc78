// patches/mqtt-packet@9.0.2.patch writes a PUBLISH — every delivery the broker makes — into one buffer instead of
// collecting writeToStream's pieces. The bytes must be writeToStream's, byte for byte, for every packet it encodes,
// and a packet it refuses must still be refused: random packets (v3.1, v3.1.1, v5; QoS 0–2; dup, retain; every
// property type, valid and not, arrays of values, user properties with repeated names) through both.
import { createRequire } from 'node:module'
import t from 'tap'
import fc from 'fast-check'

const require = createRequire(import.meta.url)
const mqtt = require('mqtt-packet') as {
  generate: (packet: object, opts?: object) => Buffer
  writeToStream: (packet: object, stream: object, opts?: object) => boolean
  parser: (opts?: object) => { parse: (b: Buffer) => number, on: (e: string, f: (p: unknown) => void) => void }
}

/** writeToStream's own bytes, or the error it reports. */
function viaWriteToStream (packet: object, opts: object): Buffer | Error {
  const chunks: Buffer[] = []
  let failed: Error | undefined
  try {
    mqtt.writeToStream(packet, {
      write (chunk: Buffer | string) { chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)); return true },
      destroy (err?: Error) { failed ??= err }
    }, opts)
  } catch (err) {
    failed ??= err as Error
  }
  return failed ?? Buffer.concat(chunks)
}

function viaGenerate (packet: object, opts: object): Buffer | Error {
  try {
    return mqtt.generate(packet, opts)
  } catch (err) {
    return err as Error
  }
}

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'ü€𝄞', 'Key', 'Timestamp'))
const validProperties = fc.record({
  payloadFormatIndicator: fc.boolean(),
  messageExpiryInterval: fc.nat(0xffffffff),
  contentType: text,
  responseTopic: text,
  correlationData: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
  userProperties: fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 }))),
  subscriptionIdentifier: fc.oneof(fc.integer({ min: 1, max: 0x0fffffff }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 3 })),
  topicAlias: fc.integer({ min: 1, max: 0xffff })
}, { requiredKeys: [] })
// Values the encoder must not take as they are: wrong types, out of range, unknown names, strings too long.
const oddProperties = fc.record({
  payloadFormatIndicator: fc.constantFrom(1, 'yes'),
  messageExpiryInterval: fc.constantFrom(-1, 2 ** 32, 1.5),
  contentType: fc.constantFrom(5, 'x'.repeat(70_000)),
  correlationData: fc.constantFrom('text', new Uint8Array([1, 2])),
  userProperties: fc.constantFrom({ n: 5 }, { n: ['a', 7] }, ['a']),
  unknownThing: fc.constant(1),
  topicAlias: fc.constantFrom(0x10000, null)
}, { requiredKeys: [] })

const packet = fc.record({
  cmd: fc.constant('publish'),
  topic: fc.oneof(text, fc.constant('t/'.repeat(40)), fc.constant(Buffer.from('buffer/topic'))),
  payload: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.constant(undefined), fc.constant('a string payload')),
  qos: fc.constantFrom(0, 1, 2),
  dup: fc.boolean(),
  retain: fc.boolean(),
  messageId: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(undefined)),
  properties: fc.oneof(validProperties, validProperties, oddProperties, fc.constant(undefined))
}, { requiredKeys: ['cmd', 'topic', 'qos'] })

t.test('a PUBLISH generated in one buffer is writeToStream\'s bytes, or refused as it refuses it', async (t) => {
  let encoded = 0
  let refused = 0
  fc.assert(fc.property(packet, fc.constantFrom(3, 4, 5), (p, protocolVersion) => {
    const expected = viaWriteToStream(p, { protocolVersion })
    const actual = viaGenerate(p, { protocolVersion })
    if (expected instanceof Error) { refused++; return actual instanceof Error }
    encoded++
    return Buffer.isBuffer(actual) && actual.equals(expected)
  }), { numRuns: 5000 })
  t.ok(encoded > 2000, `${encoded} packets encoded identically`)
  t.ok(refused > 100, `${refused} packets refused by both`)
})

t.test('the broker\'s kind of PUBLISH reads back through mqtt-packet\'s parser, user properties and all', async (t) => {
  const p = {
    cmd: 'publish', topic: 'bench/ü', payload: Buffer.from('hello'), qos: 1, dup: false, retain: true, messageId: 42,
    properties: { payloadFormatIndicator: true, messageExpiryInterval: 60, userProperties: { Key: 'k1', Timestamp: '1700000000000', multi: ['a', 'b'] } }
  }
  const parsed: unknown[] = []
  const parser = mqtt.parser({ protocolVersion: 5 })
  parser.on('packet', (x) => parsed.push(x))
  parser.parse(mqtt.generate(p, { protocolVersion: 5 }))
  t.match(parsed, [{ cmd: 'publish', topic: 'bench/ü', qos: 1, retain: true, messageId: 42, properties: p.properties }])
  t.equal((parsed[0] as { payload: Buffer }).payload.toString(), 'hello')
})
