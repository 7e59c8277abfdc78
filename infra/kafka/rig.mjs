#!/usr/bin/env node
// A real single-node Apache Kafka (KRaft, broker and controller in one JVM) for tests, benches and people, with one
// listener per security mode. `node infra/kafka/rig.mjs start|stop|status`, or import { startRig, stopRig, readRig,
// isRigAlive }. What a started rig offers is written to .run/rig.json (shape in README.md; tests depend on it).
import { spawn, execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, realpathSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { RigError, brokerExited, formatFailed, lockTimeout, startTimeout } from './lib/errors.mjs'
import { requireCommand, requireJava } from './lib/prereqs.mjs'
import { ensureJars, kafkaVersion } from './lib/jars.mjs'
import { makePki, makeOauthKeys, pkiPaths } from './lib/tls.mjs'
import { freePorts } from './lib/ports.mjs'
import { listenerNames, serverProperties, log4jProperties, log4j2Yaml, toolsLog4jProperties, toolsLog4j2Yaml } from './lib/config.mjs'
import { portAnswers, probeOnce } from './lib/probe.mjs'
import { clusterId } from './lib/cluster-id.mjs'

const here = dirname(fileURLToPath(import.meta.url))
export const runDir = join(here, '.run')
export const rigFile = join(runDir, 'rig.json')
const lockFile = join(runDir, 'start.lock')

const AUDIENCE = 'api://flowgate-kafka'
const READY_TIMEOUT_MS = 90_000
const STOP_GRACE_MS = 20_000
const TEMP_PREFIX = 'flowgate-kafka-'
// Small footprint: the rig shares a 2-core box with the gateway and the tests. SerialGC suits a 512 MiB heap.
const JVM_FLAGS = (process.env.FLOWGATE_KAFKA_JVM_FLAGS?.split(' ').filter(Boolean) ?? ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC']).concat('-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true')

const run = promisify(execFile)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const defaultLog = (line) => process.stderr.write(`flowgate kafka rig: ${line}\n`)

/** The rig described by .run/rig.json, or null when there is none (it may still be dead: see isRigAlive). */
export function readRig () {
  try {
    return JSON.parse(readFileSync(rigFile, 'utf8'))
  } catch {
    return null
  }
}

const hasProc = existsSync('/proc/self/stat')

function pidAlive (pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    return err.code === 'EPERM'
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill 0.
  if (hasProc) {
    try {
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return false
    }
  }
  return true
}

/** Whether `pid` is this rig's broker, not a process that reused the number (Linux; elsewhere assumed). */
function isRigProcess (pid, dir) {
  if (!pidAlive(pid)) return false
  if (!hasProc) return true
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes('kafka.Kafka') && cmdline.includes(dir)
  } catch {
    return false
  }
}

/** Whether the rig's broker process runs and its PLAINTEXT listener accepts connections. */
export async function isRigAlive (rig) {
  if (!rig || typeof rig !== 'object' || !rig.listeners?.plaintext) return false
  return isRigProcess(rig.pid, rig.dir) && await portAnswers(rig.listeners.plaintext)
}

/**
 * Starts the rig, or returns the running one. Resolves with the rig.json object.
 * @param {{ log?: (line: string) => void }} [options]
 */
export async function startRig ({ log = defaultLog } = {}) {
  mkdirSync(runDir, { recursive: true })
  const existing = readRig()
  if (existing && await isRigAlive(existing)) {
    log(`reusing the running Kafka rig (pid ${existing.pid}, PLAINTEXT ${existing.listeners.plaintext})`)
    return existing
  }
  const release = await acquireStartLock(log)
  try {
    // Another process may have started it while we waited for the lock.
    const current = readRig()
    if (current && await isRigAlive(current)) {
      log(`reusing the Kafka rig another process just started (pid ${current.pid})`)
      return current
    }
    if (current) {
      log(`rig.json names pid ${current.pid}, which is gone or not answering: replacing it`)
      await teardown(current, () => {})
    }
    return await launch(log)
  } finally {
    release()
  }
}

/** One start at a time (parallel test files may each call startRig): an exclusive lock file holding our pid. */
async function acquireStartLock (log) {
  const deadline = Date.now() + 3 * READY_TIMEOUT_MS
  let told = false
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      return () => rmSync(lockFile, { force: true })
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    let holder = NaN
    let age = 0
    try {
      holder = Number(readFileSync(lockFile, 'utf8'))
      age = Date.now() - statSync(lockFile).mtimeMs
    } catch {
      continue // released meanwhile
    }
    if (Number.isNaN(holder) ? age > 5000 : !pidAlive(holder)) {
      rmSync(lockFile, { force: true })
      continue
    }
    if (!told) log(`waiting for another start of the rig (pid ${holder})…`)
    told = true
    if (Date.now() > deadline) throw lockTimeout(lockFile, holder)
    await sleep(300)
  }
}


const secret = () => randomBytes(12).toString('hex')

async function launch (log) {
  requireJava()
  requireCommand('openssl', ['version'])
  const classpath = await ensureJars({ log })
  const version = kafkaVersion()
  const t0 = Date.now()

  const dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX))
  const configDir = join(dir, 'config')
  const logsDir = join(dir, 'logs')
  const dataDir = join(dir, 'data')
  for (const d of [configDir, logsDir, dataDir]) mkdirSync(d, { recursive: true })
  const serverLog = join(logsDir, 'server.log')
  const stdoutLog = join(logsDir, 'kafka.out')

  let child = null
  // Ctrl-C or a test runner's SIGTERM during start-up must not leave a broker behind with no rig.json naming it.
  const abort = (signal) => {
    if (child?.pid) try { process.kill(child.pid, 'SIGKILL') } catch {}
    rmSync(dir, { recursive: true, force: true })
    rmSync(lockFile, { force: true })
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', abort)
  process.once('SIGTERM', abort)
  try {
    const users = {
      plain: { username: 'flowgate', password: secret() },
      'scram-sha-256': { username: 'flowgate-scram256', password: secret() },
      'scram-sha-512': { username: 'flowgate-scram512', password: secret() },
      eventhubs: {
        username: '$ConnectionString',
        password: `Endpoint=sb://flowgate-test.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=${randomBytes(32).toString('base64')}`
      }
    }

    const storePassword = secret()
    const tlsDir = join(dir, 'tls')
    const pki = pkiPaths(tlsDir)
    const oauthKeys = makeOauthKeys(join(dir, 'oauth'))
    const jwksUrl = pathToFileURL(oauthKeys.jwks).href

    const names = Object.keys(listenerNames)
    const picked = await freePorts(names.length + 1)
    const ports = Object.fromEntries([...names, 'controller'].map((k, i) => [k, picked[i]]))
    const listeners = Object.fromEntries(names.map((k) => [k, `127.0.0.1:${ports[k]}`]))

    const props = join(configDir, 'server.properties')
    writeFileSync(props, serverProperties({ ports, dataDir, users, tls: { keystore: pki.keystore, storePassword, ca: pki.ca }, oauth: { jwksUrl, audience: AUDIENCE } }), { mode: 0o600 })
    const log4j = join(configDir, 'log4j.properties')
    writeFileSync(log4j, log4jProperties(serverLog))
    const log4j2 = join(configDir, 'log4j2.yaml')
    writeFileSync(log4j2, log4j2Yaml(serverLog))
    const toolsLog4j = join(configDir, 'tools-log4j.properties')
    writeFileSync(toolsLog4j, toolsLog4jProperties())
    const toolsLog4j2 = join(configDir, 'tools-log4j2.yaml')
    writeFileSync(toolsLog4j2, toolsLog4j2Yaml())

    // SCRAM credentials go into the metadata log at format time (KIP-900), so they exist before any client connects.
    // Formatting (a JVM) does not read the TLS files, so it runs while openssl makes them.
    log('making a throwaway CA and certificates; formatting KRaft storage with the SCRAM users…')
    const scram = (mech, u) => ['--add-scram', `${mech}=[name=${u.username},password=${u.password}]`]
    const format = run('java', ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=${pathToFileURL(toolsLog4j).href}`, `-Dlog4j2.configurationFile=${toolsLog4j2}`, '-cp', join(classpath, '*'), 'kafka.tools.StorageTool',
      'format', '-t', clusterId(), '-c', props,
      ...scram('SCRAM-SHA-256', users['scram-sha-256']), ...scram('SCRAM-SHA-512', users['scram-sha-512'])], { cwd: dir, timeout: 60_000 })
      .catch((err) => { throw formatFailed(`${javaError(String(err.stderr || err.stdout || err.message))} (config ${props})`) })
    await Promise.all([format, makePki(tlsDir, storePassword)])

    log(`starting Kafka ${version}…`)
    const out = openSync(stdoutLog, 'a')
    child = spawn('java', [
      ...JVM_FLAGS,
      // Pauses of the broker's JVM show up as publish latency: kept beside server.log to tell them apart from ours.
      `-Xlog:gc:file=${join(logsDir, 'gc.log')}:uptimemillis`,
      `-Dlog4j.configuration=${pathToFileURL(log4j).href}`,
      `-Dlog4j2.configurationFile=${log4j2}`,
      `-Dkafka.logs.dir=${logsDir}`,
      // Kafka 4 refuses to read a JWKS from any URL not listed here (CVE-2025-27817 hardening).
      `-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=${jwksUrl}`,
      '-cp', join(classpath, '*'),
      'kafka.Kafka', props
    ], { cwd: dir, detached: true, stdio: ['ignore', out, out] })
    closeSync(out)
    child.unref()
    let exit = null
    child.once('exit', (code, signal) => { exit = code ?? signal })
    child.once('error', (err) => { exit = err.message })

    const t1 = Date.now()
    let waitingFor = `the plaintext listener on ${listeners.plaintext}`
    for (;;) {
      if (exit !== null) throw brokerExited(exit, describeFailure(serverLog, stdoutLog))
      const probe = await probeOnce(listeners)
      if (probe.ready) break
      waitingFor = probe.waitingFor
      if (Date.now() - t1 > READY_TIMEOUT_MS) throw startTimeout(READY_TIMEOUT_MS / 1000, waitingFor, describeFailure(serverLog, stdoutLog))
      await sleep(200)
    }

    const rig = {
      pid: child.pid,
      dir,
      startedAt: new Date().toISOString(),
      kafkaVersion: version,
      listeners,
      users,
      tls: { ca: pki.ca, intermediateCa: pki.intermediateCa, clientCert: pki.clientCert, clientChain: pki.clientChain, clientKey: pki.clientKey },
      oauth: { privateKey: oauthKeys.privateKey, kid: oauthKeys.kid, audience: AUDIENCE, jwks: oauthKeys.jwks },
      classpath,
      log: serverLog
    }
    const tmp = `${rigFile}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(rig, null, 2) + '\n', { mode: 0o600 })
    renameSync(tmp, rigFile)
    log(`Kafka ${version} ready in ${((Date.now() - t1) / 1000).toFixed(1)} s (${((Date.now() - t0) / 1000).toFixed(1)} s with set-up), pid ${child.pid}`)
    return rig
  } catch (err) {
    // Keep the temporary folder: its logs say why. Only the broker goes.
    if (child?.pid && exitCodeUnknown(child)) try { process.kill(child.pid, 'SIGKILL') } catch {}
    throw err
  } finally {
    process.removeListener('SIGINT', abort)
    process.removeListener('SIGTERM', abort)
  }
}

/** The exception line of a Java failure's output (not its `at …` frames). */
function javaError (output) {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !/^\.\.\. \d+ more$/.test(l))
  return (lines.find((l) => /Exception|Error/.test(l)) ?? lines.at(-1) ?? 'no output').slice(0, 400)
}

const exitCodeUnknown = (child) => child.exitCode === null && child.signalCode === null

/** The log paths plus the broker's first ERROR record (with its exception and root cause), so one line says why. */
function describeFailure (serverLog, stdoutLog) {
  const firstError = (file) => {
    let lines
    try {
      lines = readFileSync(file, 'utf8').split('\n')
    } catch {
      return undefined
    }
    const i = lines.findIndex((l) => /^\[[^\]]+\] (ERROR|FATAL) /.test(l))
    if (i < 0) return lines.findLast((l) => /Exception|Error:/.test(l))?.trim()
    // The record's stack runs until the next log record (a line starting with "[").
    const stack = []
    for (let j = i + 1; j < lines.length && !lines[j].startsWith('['); j++) stack.push(lines[j].trim())
    const exception = stack.find((l) => l && !l.startsWith('at '))
    const rootCause = stack.findLast((l) => l.startsWith('Caused by:'))
    return [lines[i].replace(/^\[[^\]]+\] /, ''), exception, rootCause].filter(Boolean).join(' — ')
  }
  const error = firstError(serverLog) ?? firstError(stdoutLog)
  const where = `${serverLog} (and ${stdoutLog})`
  return error ? `${where}; first error: ${error.slice(0, 600)}` : where
}

/**
 * Stops the rig named in rig.json (SIGTERM, then SIGKILL after 20 s), removes its temporary folder and rig.json.
 * Resolves true when a running broker was stopped; safe to call when nothing runs.
 */
export async function stopRig ({ log = defaultLog } = {}) {
  const rig = readRig()
  if (!rig) {
    log('no Kafka rig is running (no rig.json)')
    return false
  }
  return teardown(rig, log)
}

async function teardown (rig, log) {
  let stopped = false
  if (isRigProcess(rig.pid, rig.dir)) {
    log(`stopping Kafka (pid ${rig.pid})…`)
    process.kill(rig.pid, 'SIGTERM')
    const deadline = Date.now() + STOP_GRACE_MS
    while (pidAlive(rig.pid) && Date.now() < deadline) await sleep(200)
    if (pidAlive(rig.pid)) {
      log(`pid ${rig.pid} still running after ${STOP_GRACE_MS / 1000} s: SIGKILL`)
      try { process.kill(rig.pid, 'SIGKILL') } catch {}
      for (let i = 0; i < 50 && pidAlive(rig.pid); i++) await sleep(100)
    }
    stopped = true
  } else {
    log(`pid ${rig.pid} is not running: removing what it left`)
  }
  // Only ever delete a folder this rig made.
  if (typeof rig.dir === 'string' && resolve(rig.dir) === rig.dir && basename(rig.dir).startsWith(TEMP_PREFIX)) {
    rmSync(rig.dir, { recursive: true, force: true })
  }
  rmSync(rigFile, { force: true })
  if (stopped) log('Kafka rig stopped')
  return stopped
}

// ── CLI ───────────────────────────────────────────────────────────────────────────────────────────────────────────

async function main (command) {
  const log = (line) => process.stdout.write(`flowgate kafka rig: ${line}\n`)
  switch (command) {
    case 'start': {
      const rig = await startRig({ log })
      for (const [name, hostPort] of Object.entries(rig.listeners)) log(`  ${name.padEnd(13)} ${hostPort}`)
      log(`  rig.json      ${rigFile}`)
      log(`  server log    ${rig.log}`)
      return 0
    }
    case 'stop':
      await stopRig({ log })
      return 0
    case 'status': {
      const rig = readRig()
      if (!rig) {
        log('not running')
        return 1
      }
      if (!await isRigAlive(rig)) {
        log(`not running (rig.json names pid ${rig.pid}, which is gone or not answering; \`start\` replaces it)`)
        return 1
      }
      log(`running: Kafka ${rig.kafkaVersion}, pid ${rig.pid}, since ${rig.startedAt}`)
      for (const [name, hostPort] of Object.entries(rig.listeners)) log(`  ${name.padEnd(13)} ${hostPort}`)
      log(`  rig.json      ${rigFile}`)
      log(`  server log    ${rig.log}`)
      return 0
    }
    default:
      process.stderr.write('usage: node infra/kafka/rig.mjs start|stop|status\n')
      return 2
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv[2]).then((code) => { process.exitCode = code }, (err) => {
    if (err instanceof RigError) process.stderr.write(`flowgate kafka rig: ${err.message}\n`)
    else process.stderr.write(`flowgate kafka rig: ${err.stack ?? err}\n`)
    process.exitCode = 1
  })
}
