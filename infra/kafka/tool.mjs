#!/usr/bin/env node
// Runs a Kafka command-line tool from the rig's own jars (same version as the broker), e.g.
//   node infra/kafka/tool.mjs topics --bootstrap-server 127.0.0.1:PORT --list
//   node infra/kafka/tool.mjs org.apache.kafka.tools.ProducerPerformance --topic t --num-records 1000 ...
// A short name picks the class (`node infra/kafka/tool.mjs --help` lists them); anything with a dot is a class name.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RigError } from './lib/errors.mjs'
import { requireJava } from './lib/prereqs.mjs'
import { ensureJars, cacheDir } from './lib/jars.mjs'
import { toolsLog4jProperties, toolsLog4j2Yaml } from './lib/config.mjs'

/** Short names, as the scripts in Kafka's bin/ call them (kafka-topics.sh → topics), and the 4.3 classes behind them. */
export const tools = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'producer-perf': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf': 'org.apache.kafka.tools.ConsumerPerformance',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  groups: 'org.apache.kafka.tools.GroupsCommand',
  configs: 'kafka.admin.ConfigCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
  'dump-log': 'org.apache.kafka.tools.DumpLogSegments',
  'broker-api-versions': 'org.apache.kafka.tools.BrokerApiVersionsCommand',
  'metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  features: 'org.apache.kafka.tools.FeatureCommand',
  acls: 'org.apache.kafka.tools.AclCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  'e2e-latency': 'org.apache.kafka.tools.EndToEndLatency',
  storage: 'kafka.tools.StorageTool'
}

/** The java argv for a tool: its class (short name or full) and arguments. Fetches the jars when needed. */
export async function toolCommand (tool, args = [], { log } = {}) {
  requireJava()
  const libs = await ensureJars({ log })
  // Tools log warnings to stderr only (Kafka's bin/ scripts use tools-log4j2.yaml for the same purpose).
  mkdirSync(cacheDir, { recursive: true })
  const log4j = writeIfChanged(join(cacheDir, 'tools-log4j.properties'), toolsLog4jProperties())
  const log4j2 = writeIfChanged(join(cacheDir, 'tools-log4j2.yaml'), toolsLog4j2Yaml())
  return ['java', ['-Xmx512m', '-XX:+UseSerialGC', `-Dlog4j.configuration=${pathToFileURL(log4j).href}`, `-Dlog4j2.configurationFile=${log4j2}`, '-cp', join(libs, '*'), tools[tool] ?? tool, ...args]]
}

function writeIfChanged (path, text) {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text)
  return path
}

function usage () {
  const width = Math.max(...Object.keys(tools).map((k) => k.length))
  return [
    'usage: node infra/kafka/tool.mjs <tool|class> [args…]',
    '',
    'tools:',
    ...Object.entries(tools).map(([name, cls]) => `  ${name.padEnd(width)}  ${cls}`),
    '',
    'any other argument containing a dot is run as a class name from the rig\'s jars.',
    'bootstrap addresses and credentials: infra/kafka/.run/rig.json (node infra/kafka/rig.mjs status)'
  ].join('\n') + '\n'
}

async function main ([tool, ...args]) {
  if (!tool || tool === '--help' || tool === '-h') {
    process.stdout.write(usage())
    return tool ? 0 : 2
  }
  if (!(tool in tools) && !tool.includes('.')) {
    process.stderr.write(`flowgate kafka tool: unknown tool "${tool}"\n\n${usage()}`)
    return 2
  }
  const [cmd, argv] = await toolCommand(tool, args, { log: (line) => process.stderr.write(`flowgate kafka tool: ${line}\n`) })
  const child = spawn(cmd, argv, { stdio: 'inherit' })
  // Let Ctrl-C reach the tool (same process group) and report its own exit.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1))))
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
    process.stderr.write(`flowgate kafka tool: ${err instanceof RigError ? err.message : err.stack ?? err}\n`)
    process.exitCode = 1
  })
}
