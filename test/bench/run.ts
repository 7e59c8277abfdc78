// `pnpm bench [name…]`: runs benchmarks outside the test suite and prints every figure as a ratio against a
// baseline measured in the same run, with the machine's facts. Nothing here asserts a timing.
import { machineLine, formatResult } from './lib/report.js'
import type { Bench } from './lib/types.js'
import { producerBench } from './producer.bench.js'
import { mqttToKafkaBench } from './mqtt-to-kafka.bench.js'
import { kafkaToMqttBench } from './kafka-to-mqtt.bench.js'
import { splitBench } from './split.bench.js'
import { tailBench } from './tail.bench.js'
import { translatorBench } from './translator.bench.js'
import { latencyBench } from './latency.bench.js'
import { authBench } from './auth.js'
import { fleetBench } from './fleet.bench.js'
import { lz4Bench } from './lz4.bench.js'
import { fanoutBench } from './fanout.bench.js'

const benches: Bench[] = [producerBench, mqttToKafkaBench, latencyBench, kafkaToMqttBench, splitBench, tailBench, translatorBench, authBench, lz4Bench, fleetBench, fanoutBench]

// Bench names, without `--flag [value]` pairs (a bench reads its own flags from process.argv, e.g. fleet's --devices).
const wanted = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1]?.startsWith('--') && !all[i - 1]!.includes('=') && !/^--profile$/.test(all[i - 1]!)))
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w))
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${benches.map((b) => b.name).join(', ')}`)
  process.exit(2)
}
console.log(machineLine())
for (const bench of benches.filter((b) => wanted.length === 0 || wanted.includes(b.name))) {
  console.log(`\n# ${bench.name}: ${bench.description}`)
  const result = await bench.run((line) => console.log(`  … ${line}`))
  console.log(formatResult(bench.name, result))
}
// kafkajs leaves sockets in keep-alive pools; the figures are printed, so end here.
process.exit(0)
