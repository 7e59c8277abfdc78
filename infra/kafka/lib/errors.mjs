// Every failure the rig reports on purpose. The CLI prints `flowgate kafka rig: <message>` for these and exits 1
// without a stack trace; anything else is a bug and keeps its stack.

export class RigError extends Error {
  /**
   * @param {string} code a stable FG_RIG_* code
   * @param {string} message one line a person can act on
   * @param {{ log?: string, cause?: unknown }} [extra]
   */
  constructor (code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'RigError'
    this.code = code
    if (extra.log) this.log = extra.log
  }
}

export const missingCommand = (cmd, hint) => new RigError('FG_RIG_MISSING_COMMAND', `\`${cmd}\` not found — ${hint}`)
export const javaTooOld = (version) => new RigError('FG_RIG_JAVA_TOO_OLD', `\`java\` is version ${version}; Kafka 4 needs Java 17+ (Debian: apt-get install -y openjdk-17-jre-headless)`)
export const fetchFailed = (detail) => new RigError('FG_RIG_FETCH_FAILED', `could not fetch the Kafka jars with Maven: ${detail}`)
export const opensslFailed = (step, detail) => new RigError('FG_RIG_OPENSSL_FAILED', `openssl failed while ${step}: ${detail}`)
export const formatFailed = (detail, log) => new RigError('FG_RIG_FORMAT_FAILED', `kafka-storage format failed: ${detail}`, { log })
export const brokerExited = (code, log) => new RigError('FG_RIG_BROKER_EXITED', `the Kafka broker exited during start-up (code ${code}); see ${log}`, { log })
export const startTimeout = (seconds, waitingFor, log) => new RigError('FG_RIG_START_TIMEOUT', `Kafka was not ready after ${seconds} s (still waiting for ${waitingFor}); see ${log}`, { log })
export const lockTimeout = (lock, pid) => new RigError('FG_RIG_LOCKED', `another start (pid ${pid}) has held ${lock} for too long; remove it if that process is gone`)
