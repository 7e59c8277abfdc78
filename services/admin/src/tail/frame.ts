import { isUtf8 } from 'node:buffer'

export type TailDirection = 'mqtt-to-kafka' | 'kafka-to-mqtt'
export const TAIL_DIRECTIONS: readonly TailDirection[] = ['mqtt-to-kafka', 'kafka-to-mqtt']

/** A JSON-safe value: MQTT properties and Kafka headers as a person reads them. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json }

export interface TailPayload {
  encoding: 'utf8' | 'base64'
  data: string
  /** Additive to DESIGN §3: set when the payload was cut at the reader's `maxPayload`; `size` is the whole length. */
  truncated?: true
  size?: number
}

/** The wire frame, DESIGN §3 (contract). `destination.offset` is additive: where Kafka stored the record. */
export interface TailFrame {
  ts: string
  dataflow: string
  namespace: string
  direction: TailDirection
  source: { topic: string, partition?: number, offset?: string, key?: string, properties?: Record<string, Json>, headers?: Record<string, Json> }
  destination: { topic: string, partition?: number, offset?: string, key?: string, headers?: Record<string, Json>, properties?: Record<string, Json> }
  payload: TailPayload
  dropped?: number
}

/**
 * What the hub queues: the frame with its payload still as bytes. Each reader cuts and encodes the payload at its
 * own `maxPayload` when the frame leaves, so publishing costs one small object whatever the readers ask for.
 */
export interface TailEvent extends Omit<TailFrame, 'payload' | 'dropped'> {
  payload: Uint8Array
}

/** The payload as the frame carries it: UTF-8 text when it is text, else base64; cut at `max` bytes. */
export function encodePayload (bytes: Uint8Array, max: number): TailPayload {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text = isUtf8(buf)
  let cut = Math.min(max, buf.length)
  // Never cut a UTF-8 sequence in half: back off over continuation bytes (10xxxxxx).
  if (text && cut < buf.length) while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--
  const part = buf.subarray(0, cut)
  const payload: TailPayload = text ? { encoding: 'utf8', data: part.toString('utf8') } : { encoding: 'base64', data: part.toString('base64') }
  if (cut < buf.length) { payload.truncated = true; payload.size = buf.length }
  return payload
}

/** Bytes as text when they are UTF-8, else `base64:`-prefixed, for keys, headers and binary MQTT properties. */
export function bytesText (bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return isUtf8(buf) ? buf.toString('utf8') : `base64:${buf.toString('base64')}`
}

/** A JSON-safe copy of mqtt-packet's property object (Buffers become text, see bytesText). */
export function jsonSafe (value: unknown): Json {
  if (value === null || value === undefined) return null
  if (value instanceof Uint8Array) return bytesText(value)
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonSafe(v)]))
  if (typeof value === 'bigint') return value.toString()
  return value as Json
}

/** Kafka headers as an object; a name that repeats keeps every value, in order, as an array. */
export function headerObject (headers: ReadonlyArray<readonly [string, Uint8Array]>): Record<string, Json> {
  const out: Record<string, Json> = {}
  for (const [name, value] of headers) {
    const text = bytesText(value)
    const prev = out[name]
    out[name] = prev === undefined ? text : Array.isArray(prev) ? [...prev, text] : [prev, text]
  }
  return out
}

/** The frame a reader receives for an event: payload cut at its `maxPayload`, and the drops since its last frame. */
export function toFrame (event: TailEvent, maxPayload: number, dropped: number): TailFrame {
  const frame: TailFrame = { ...event, payload: encodePayload(event.payload, maxPayload) }
  if (dropped > 0) frame.dropped = dropped
  return frame
}
