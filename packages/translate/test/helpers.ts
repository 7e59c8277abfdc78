import type { KafkaToMqttContext, TranslateContext } from '../src/types.js'

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)

export function ctx (over: Partial<TranslateContext> = {}): TranslateContext {
  return { now: NOW, instanceId: 0, dataflow: 'my-dataflow', destinationTopic: 'telemetry', randomUUID: () => '00000000-0000-4000-8000-000000000001', ...over }
}

export function mqttCtx (over: Partial<KafkaToMqttContext> = {}): KafkaToMqttContext {
  return { ...ctx(), destinationTopic: 'from-kafka/${inputTopic}', ...over }
}

/** Headers with text values, for readable assertions. */
export function textHeaders (headers: Array<[string, Uint8Array]>): Array<[string, string]> {
  return headers.map(([n, v]) => [n, dec(v)])
}
