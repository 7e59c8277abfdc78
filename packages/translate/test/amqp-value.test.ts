// AMQP 1.0 primitive encodings Event Hubs puts in Kafka header values (amqp-value.ts), one test per encoding.
import t from 'tap'
import { decodeAmqpValue } from '../src/amqp-value.js'

const b = (...xs: number[]): Uint8Array => new Uint8Array(xs)
function withView (code: number, size: number, write: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(1 + size); out[0] = code
  write(new DataView(out.buffer, 1))
  return out
}

const CASES: Array<[string, Uint8Array, string | undefined]> = [
  ['0xA1 str8-utf8', b(0xa1, 3, 0x62, 0x61, 0x72), 'bar'],
  ['0xB1 str32-utf8', b(0xb1, 0, 0, 0, 2, 0x68, 0x69), 'hi'],
  ['0xA3 sym8', b(0xa3, 2, 0x6f, 0x6b), 'ok'],
  ['0xB3 sym32', b(0xb3, 0, 0, 0, 1, 0x7a), 'z'],
  ['0x40 null', b(0x40), 'null'],
  ['0x41 true', b(0x41), 'true'],
  ['0x42 false', b(0x42), 'false'],
  ['0x56 boolean true', b(0x56, 1), 'true'],
  ['0x56 boolean false', b(0x56, 0), 'false'],
  ['0x50 ubyte', b(0x50, 200), '200'],
  ['0x60 ushort', b(0x60, 0xff, 0xff), '65535'],
  ['0x70 uint', b(0x70, 0xff, 0xff, 0xff, 0xff), '4294967295'],
  ['0x52 smalluint', b(0x52, 7), '7'],
  ['0x43 uint0', b(0x43), '0'],
  ['0x80 ulong', b(0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), '18446744073709551615'],
  ['0x53 smallulong', b(0x53, 9), '9'],
  ['0x44 ulong0', b(0x44), '0'],
  ['0x51 byte', b(0x51, 0xff), '-1'],
  ['0x61 short', b(0x61, 0x80, 0x00), '-32768'],
  ['0x71 int', b(0x71, 0xff, 0xff, 0xff, 0xfe), '-2'],
  ['0x54 smallint', b(0x54, 0x80), '-128'],
  ['0x81 long', b(0x81, 0x80, 0, 0, 0, 0, 0, 0, 0), '-9223372036854775808'],
  ['0x55 smalllong', b(0x55, 5), '5'],
  ['0x72 float (shortest form that reads back)', withView(0x72, 4, (v) => v.setFloat32(0, 11.9)), '11.9'],
  ['0x82 double', withView(0x82, 8, (v) => v.setFloat64(0, 11.9)), '11.9'],
  ['0x83 timestamp (ms since the epoch as text)', withView(0x83, 8, (v) => v.setBigInt64(0, 1_732_500_000_123n)), '1732500000123'],
  ['0x98 uuid', b(0x98, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0), '12345678-9abc-def0-1234-56789abcdef0'],
  ['0xA0 vbin8 holding UTF-8 text', b(0xa0, 2, 0x68, 0x69), 'hi'],
  ['0xB0 vbin32 holding UTF-8 text', b(0xb0, 0, 0, 0, 1, 0x78), 'x'],
  ['0xA0 vbin8 holding non-UTF-8 bytes (dropped, no base64 invented)', b(0xa0, 2, 0xff, 0xfe), undefined],
  ['0x73 char', b(0x73, 0, 0x01, 0xf6, 0x80), '\u{1F680}']
]

for (const [name, bytes, expected] of CASES) {
  t.test(`AMQP ${name} decodes to ${expected === undefined ? 'nothing' : JSON.stringify(expected)}`, async (t) => {
    t.equal(decodeAmqpValue(bytes), expected)
  })
}

t.test('a length that does not match the bytes, trailing bytes or an unknown constructor decode to nothing', async (t) => {
  t.equal(decodeAmqpValue(b(0xa1, 4, 0x62, 0x61, 0x72)), undefined)
  t.equal(decodeAmqpValue(b(0xa1, 2, 0x62, 0x61, 0x72)), undefined)
  t.equal(decodeAmqpValue(b(0x71, 0, 0, 1)), undefined)
  t.equal(decodeAmqpValue(b(0x00, 0x53, 0x70)), undefined, 'described types are not primitives')
  t.equal(decodeAmqpValue(b(0xc0, 1, 0)), undefined, 'list8')
  t.equal(decodeAmqpValue(b()), undefined)
  t.equal(decodeAmqpValue(b(0xb1, 0xff, 0xff, 0xff, 0xff)), undefined)
})

t.test('an AMQP string with invalid UTF-8 inside decodes to nothing', async (t) => {
  t.equal(decodeAmqpValue(b(0xa1, 1, 0xff)), undefined)
})
