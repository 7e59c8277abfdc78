import { crc32 } from 'node:zlib'
import type { StoredResource, WatchEvent } from './types.js'

/**
 * The file store's journal records, one per line: `<crc32 as 8 hex digits> <JSON>\n`. JSON.stringify never writes a
 * raw newline, so a line is a record; the checksum tells a record cut short by a crash (or a torn sector) from a
 * whole one. A batch (put, putAll, delete) is one record: it is in the journal whole or not at all.
 */
export type JournalRecord =
  | { t: 'w', ev: WatchEvent[] }
  | { t: 's', k: [string, string, string], s: unknown }

export function encodeRecord (record: JournalRecord): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8')
  const head = Buffer.from(crc32(json).toString(16).padStart(8, '0') + ' ', 'latin1')
  return Buffer.concat([head, json, Buffer.from('\n')])
}

export interface ParsedSegment {
  records: JournalRecord[]
  /** Bytes of whole, checked records from the start; anything after is a torn tail. */
  validBytes: number
  torn: boolean
}

export function decodeSegment (buf: Buffer): ParsedSegment {
  const records: JournalRecord[] = []
  let offset = 0
  while (offset < buf.length) {
    const end = buf.indexOf(0x0a, offset)
    if (end < 0 || end - offset < 10 || buf[offset + 8] !== 0x20) return { records, validBytes: offset, torn: true }
    const json = buf.subarray(offset + 9, end)
    const crc = Number.parseInt(buf.toString('latin1', offset, offset + 8), 16)
    if (Number.isNaN(crc) || crc32(json) !== crc) return { records, validBytes: offset, torn: true }
    try {
      records.push(JSON.parse(json.toString('utf8')) as JournalRecord)
    } catch {
      return { records, validBytes: offset, torn: true }
    }
    offset = end + 1
  }
  return { records, validBytes: offset, torn: false }
}

export interface Snapshot {
  format: 1
  resourceVersion: string
  resources: StoredResource[]
}
