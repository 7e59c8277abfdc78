import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import { rig } from './rig.js'
import { clusterId } from '../../../infra/kafka/lib/cluster-id.mjs'

const run = promisify(execFile)

/**
 * A Kafka broker of its own (PLAINTEXT only, same jars as the rig) that a test may stop and start again on the same
 * port and data: the shared rig serves every other test at once and must never go down.
 */
export interface SoloBroker {
  /** The PLAINTEXT listener (with `authorization`: the principal ANONYMOUS, a super user). */
  bootstrap: string
  /** The SASL_PLAINTEXT (PLAIN) listener, when started with `authorization`. */
  saslBootstrap?: string
  stop: () => Promise<void>
  start: () => Promise<void>
  destroy: () => Promise<void>
}

/** A TCP port nothing listens on now (on 127.0.0.1), for servers a test configures by port number. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}


async function accepts (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
    socket.on('error', () => resolve(false))
  })
}

export interface SoloBrokerOptions {
  /**
   * The port the broker hands clients in Metadata (`advertised.listeners`) while it listens on its own: a fault
   * proxy (`startFaultProxy`) listening there then carries every connection after the bootstrap one. `bootstrap`
   * stays the real listener.
   */
  advertisedPort?: number
  /**
   * A broker that checks ACLs: Kafka's StandardAuthorizer with `allow.everyone.if.no.acl.found=false`, and a
   * SASL_PLAINTEXT listener (PLAIN, these users: name → password) besides the PLAINTEXT one. `superUsers` (names of
   * those users) may do anything; the others only what ACLs grant. PLAINTEXT connections (the controller's, the
   * broker's own) are the principal ANONYMOUS, which is a super user too: the node must be allowed to talk to itself,
   * and tests read and administer through it.
   */
  authorization?: { users: Record<string, string>, superUsers: string[] }
}

/** A JAAS string literal (Kafka's JaasConfig tokenizer: double quotes, backslash escapes). */
const jaasString = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

export async function startSoloBroker (options: SoloBrokerOptions = {}): Promise<SoloBroker> {
  const { classpath } = await rig()
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-solo-kafka-'))
  const [port, controller] = [await freePort(), await freePort()]
  const auth = options.authorization
  const saslPort = auth !== undefined ? await freePort() : undefined
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, ...(saslPort !== undefined ? [`SASL_PLAINTEXT://127.0.0.1:${saslPort}`] : [])]
  const advertised = [`PLAINTEXT://127.0.0.1:${options.advertisedPort ?? port}`, ...(saslPort !== undefined ? [`SASL_PLAINTEXT://127.0.0.1:${saslPort}`] : [])]
  const authProps = auth === undefined
    ? []
    : [
        'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'allow.everyone.if.no.acl.found=false',
        `super.users=${['ANONYMOUS', ...auth.superUsers].map((u) => `User:${u}`).join(';')}`,
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN',
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${Object.entries(auth.users).map(([u, p]) => `user_${u}=${jaasString(p)}`).join(' ')};`
      ]
  const props = join(dir, 'server.properties')
  writeFileSync(props, [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=${[...listeners, `CONTROLLER://127.0.0.1:${controller}`].join(',')}`, `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER', 'inter.broker.listener.name=PLAINTEXT', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`, 'num.partitions=1', 'offsets.topic.replication.factor=1', 'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1', 'group.initial.rebalance.delay.ms=0', 'auto.create.topics.enable=false', ...authProps
  ].join('\n') + '\n')
  writeFileSync(join(dir, 'log4j2.yaml'), 'Configuration:\n  Appenders:\n    Console: { name: STDOUT, PatternLayout: { Pattern: "%d %p %c %m%n" } }\n  Loggers:\n    Root: { level: WARN, AppenderRef: [{ ref: STDOUT }] }\n')
  const jvm = ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.yaml')}`, '-cp', join(classpath, '*')]
  await run('java', [...jvm, '-XX:TieredStopAtLevel=1', 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props], { timeout: 60_000 })

  let child: ChildProcess | undefined
  const broker: SoloBroker = {
    bootstrap: `127.0.0.1:${port}`,
    ...(saslPort !== undefined ? { saslBootstrap: `127.0.0.1:${saslPort}` } : {}),
    async start () {
      const out = openSync(join(dir, 'broker.log'), 'a')
      child = spawn('java', [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', out, out] })
      closeSync(out)
      const until = Date.now() + 60_000
      while (!(await accepts(port)) || (saslPort !== undefined && !(await accepts(saslPort)))) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`solo Kafka did not start (log: ${join(dir, 'broker.log')})`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    },
    async stop () {
      const c = child
      if (!c || c.exitCode !== null) return
      const exited = new Promise((resolve) => c.once('exit', resolve))
      c.kill('SIGTERM')
      const timer = setTimeout(() => c.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    },
    async destroy () {
      await broker.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  await broker.start()
  return broker
}
