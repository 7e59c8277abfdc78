import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliRig, seedFixture } from './helpers.js'

t.test('apply -f a seed file prints one line per resource like kubectl', async (t) => {
  const { flowgate } = await cliRig(t)
  const run = await flowgate(['apply', '-f', seedFixture('seed-03-kafka-endpoint.yaml')])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'dataflowendpoint/kafka created\n')
  t.equal((await flowgate(['apply', '-f', seedFixture('seed-03-kafka-endpoint.yaml')])).stdout, 'dataflowendpoint/kafka unchanged\n')
})

t.test('apply -f - reads a multi-document manifest from stdin', async (t) => {
  const { flowgate } = await cliRig(t)
  const stdin = [await readFile(seedFixture('seed-01-eventhubs-endpoint.yaml'), 'utf8'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ca\ndata:\n  ca.crt: PEM\n'].join('\n---\n')
  const run = await flowgate(['apply', '-f', '-'], { stdin })
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'configmap/ca created\ndataflowendpoint/eventhubs created\n')
})

t.test('an invalid file is reported as FILE:LINE: path: message (allowed: …) and nothing is applied', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  const file = join(dir, 'kafka.yaml')
  const text = (await readFile(seedFixture('seed-03-kafka-endpoint.yaml'), 'utf8')).replace('saslType: ScramSha256', 'saslType: Kerberos').replace('consumerGroupId: mqConnector', 'consumerGroupId: mqConnector\n    compression: zip')
  await writeFile(file, text)
  const run = await flowgate(['apply', '-f', file])
  t.equal(run.code, 1)
  const lines = run.stderr.trim().split('\n')
  t.same(lines.slice(0, 2).sort(), [
    `${file}:13: /spec/kafkaSettings/authentication/saslSettings/saslType: unknown value "Kerberos" (allowed: Plain, ScramSha256, ScramSha512)`,
    `${file}:18: /spec/kafkaSettings/compression: unknown value "zip" (allowed: None, Gzip, Snappy, Lz4)`
  ].sort())
  t.match(lines[2], /nothing applied.*FG_ERR_VALIDATION/)
  t.equal((await flowgate(['get', 'dataflowendpoint', 'kafka', '-n', 'azure-iot-operations'])).code, 1, 'not stored')
})

t.test('a YAML syntax error is reported with file:line:col before anything is sent', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  const file = join(dir, 'broken.yaml')
  await writeFile(file, 'kind: Secret\nmetadata:\n  name: [x\n')
  const run = await flowgate(['apply', '-f', file])
  t.equal(run.code, 1)
  t.match(run.stderr, new RegExp(`^flowgate: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: .*\\[FG_ERR_MANIFEST_SYNTAX\\]\\n$`))
})

t.test('a dangling reference is reported with the line of the field that names it', async (t) => {
  const { flowgate } = await cliRig(t)
  const run = await flowgate(['apply', '-f', seedFixture('seed-04-dataflow.yaml')])
  t.equal(run.code, 1)
  t.match(run.stderr, `${seedFixture('seed-04-dataflow.yaml')}:12: /spec/operations/0/sourceSettings/endpointRef: dataflowendpoint/mq not found`)
  t.match(run.stderr, 'FG_ERR_DANGLING_REFERENCE')
})

t.test('without a token the command says where to get one; a wrong server is one line', async (t) => {
  const { flowgate } = await cliRig(t)
  const noToken = await flowgate(['get', 'dataflows'], { env: { FLOWGATE_ADMIN_TOKEN: '' } })
  t.equal(noToken.code, 1)
  t.match(noToken.stderr, /FG_ERR_UNAUTHORIZED/)
  const down = await flowgate(['get', 'dataflows', '--server', 'http://127.0.0.1:9'])
  t.equal(down.code, 1)
  t.equal(down.stderr.trim().split('\n').length, 1)
  t.match(down.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:9.*FG_ERR_CLI_CONNECT/)
})
