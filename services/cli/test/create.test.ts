import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliRig, dumpDir } from './helpers.js'

t.test('create secret generic stores the literals sealed and shows only their keys', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  const run = await flowgate(['create', 'secret', 'generic', 'cs-secret', '-n', 'azure-iot-operations',
    '--from-literal=username=$ConnectionString', '--from-literal=password=Endpoint=sb://x/;SharedAccessKey=K3Y-PLAINTEXT'])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'secret/cs-secret created\n')
  t.notMatch(await dumpDir(join(dir, 'data')), 'K3Y-PLAINTEXT')
  const get = await flowgate(['get', 'secrets', '-n', 'azure-iot-operations'])
  t.match(get.stdout, /cs-secret\s+Opaque\s+2\s/)
  const yaml = await flowgate(['get', 'secret', 'cs-secret', '-n', 'azure-iot-operations', '-o', 'yaml'])
  t.match(yaml.stdout, /data:\n {2}username: ""\n {2}password: ""\n/)
  t.notMatch(yaml.stdout, 'K3Y')
  const twice = await flowgate(['create', 'secret', 'generic', 'cs-secret', '-n', 'azure-iot-operations', '--from-literal=a=b'])
  t.equal(twice.code, 1)
  t.match(twice.stderr, /already exists.*FG_ERR_CLI_EXISTS/)
})

t.test('create secret tls reads --cert and --key into tls.crt and tls.key', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  await writeFile(join(dir, 'client.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  await writeFile(join(dir, 'client.key'), '-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n')
  const run = await flowgate(['create', 'secret', 'tls', 'my-tls-secret', '--cert', 'client.crt', '--key', 'client.key'])
  t.equal(run.code, 0, run.stderr)
  const json = JSON.parse((await flowgate(['get', 'secret', 'my-tls-secret', '-n', 'default', '-o', 'json'])).stdout)
  t.equal(json.type, 'kubernetes.io/tls')
  t.same(Object.keys(json.data).sort(), ['tls.crt', 'tls.key'])
  const missing = await flowgate(['create', 'secret', 'tls', 'x', '--cert', 'client.crt', '--key', 'nope.key'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /nope\.key: no such file/)
})

t.test('create configmap --from-file keys the file by its name', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  await writeFile(join(dir, 'root_ca.crt'), '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n')
  const run = await flowgate(['create', 'configmap', 'client-ca-configmap', '--from-file', 'root_ca.crt', '-n', 'azure-iot-operations'])
  t.equal(run.code, 0, run.stderr)
  const json = JSON.parse((await flowgate(['get', 'configmap', 'client-ca-configmap', '-n', 'azure-iot-operations', '-o', 'json'])).stdout)
  t.match(json.data['root_ca.crt'], /BEGIN CERTIFICATE/)
})
