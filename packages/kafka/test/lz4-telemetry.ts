/** `bytes` of newline-separated JSON device readings: the shape of an MQTT → Kafka batch of telemetry. */
export function telemetry (bytes: number): Buffer {
  const lines: string[] = []
  let n = 0
  for (let i = 0; n < bytes; i++) {
    const line = JSON.stringify({
      deviceId: `plant-3/line-${i % 7}/sensor-${i % 97}`,
      ts: 1764900000000 + i * 137,
      temperature: Number((20 + Math.sin(i) * 5).toFixed(3)),
      humidity: Number((40 + Math.cos(i / 3) * 10).toFixed(2)),
      status: i % 13 === 0 ? 'warn' : 'ok',
      seq: i
    })
    lines.push(line)
    n += line.length + 1
  }
  return Buffer.from(lines.join('\n')).subarray(0, bytes)
}
