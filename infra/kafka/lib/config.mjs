// server.properties and logging configuration for a single-node KRaft broker+controller with one listener per
// security mode Flowgate supports.

/** Java .properties escaping for values (paths, JAAS lines): only the backslash and line breaks matter here. */
const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

/** A JAAS string literal (Kafka's JaasConfig tokenizer: double quotes, backslash escapes). */
const jaasString = (v) => `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

/** Listener name (upper case, as in `listeners=`) per rig.json key, with its security protocol. */
export const listenerNames = {
  plaintext: ['PLAINTEXT', 'PLAINTEXT'],
  saslPlaintext: ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
  ssl: ['SSL', 'SSL'],
  saslSsl: ['SASL_SSL', 'SASL_SSL'],
  oauthbearer: ['OAUTHBEARER', 'SASL_PLAINTEXT']
}

/**
 * @param {object} o
 * @param {Record<string, number>} o.ports one per listenerNames key, plus `controller`
 * @param {string} o.dataDir
 * @param {{ plain, 'scram-sha-256', 'scram-sha-512', eventhubs }} o.users
 * @param {{ keystore: string, storePassword: string, ca: string }} o.tls
 * @param {{ jwksUrl: string, audience: string }} o.oauth
 */
export function serverProperties ({ ports, dataDir, users, tls, oauth }) {
  const at = (key) => `${listenerNames[key][0]}://127.0.0.1:${ports[key]}`
  const keys = Object.keys(listenerNames)
  const plainModule = 'org.apache.kafka.common.security.plain.PlainLoginModule'
  const scramModule = 'org.apache.kafka.common.security.scram.ScramLoginModule'
  const plainUsers = (...list) => list.map((u) => `user_${u.username}=${jaasString(u.password)}`).join(' ')

  const lines = [
    '# Written by infra/kafka/rig.mjs for one run; regenerated at every start.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    'controller.listener.names=CONTROLLER',
    `listeners=${[...keys.map(at), `CONTROLLER://127.0.0.1:${ports.controller}`].join(',')}`,
    `advertised.listeners=${keys.map(at).join(',')}`,
    `listener.security.protocol.map=${[...keys.map((k) => `${listenerNames[k][0]}:${listenerNames[k][1]}`), 'CONTROLLER:PLAINTEXT'].join(',')}`,
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${esc(dataDir)}`,
    '',
    '# One node: every internal topic with one replica. One partition for the offsets and transaction topics makes',
    '# the rig come up faster and lets the readiness probe (one group) stand for all groups.',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'num.partitions=1',
    '# Tests create their topics; a missing topic must stay a real error.',
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    '# Larger records than the 1 MiB default may be produced; a test wanting a limit sets max.message.bytes per topic.',
    'message.max.bytes=4194304',
    'replica.fetch.max.bytes=4194304',
    '',
    '# SASL_PLAINTEXT: PLAIN (users in JAAS), SCRAM-SHA-256/512 (credentials written by kafka-storage format --add-scram).',
    'sasl.enabled.mechanisms=PLAIN',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${esc(`${plainModule} required ${plainUsers(users.plain)};`)}`,
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scramModule} required;`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scramModule} required;`,
    '',
    '# TLS for SSL and SASL_SSL. The broker certificate (PKCS#12) is signed by the root CA; clients are checked',
    '# against the same root (PEM truststore), so a client must send its intermediate after its leaf.',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${esc(tls.keystore)}`,
    `ssl.keystore.password=${esc(tls.storePassword)}`,
    `ssl.key.password=${esc(tls.storePassword)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${esc(tls.ca)}`,
    'listener.name.ssl.ssl.client.auth=required',
    'listener.name.sasl_ssl.ssl.client.auth=none',
    '',
    '# SASL_SSL PLAIN, Event Hubs style: the user name is literally $ConnectionString and the password a connection',
    '# string. Kafka\'s JaasConfig tokenizer treats `$` as a word character, so `user_$ConnectionString="…"` parses as',
    '# is — no custom callback handler needed. The PLAIN user works here too.',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=${esc(`${plainModule} required ${plainUsers(users.eventhubs, users.plain)};`)}`,
    '',
    '# OAUTHBEARER: RS256 JWTs checked against a file: JWKS (the JVM also needs',
    '# -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=<the same URL>) and the expected audience.',
    'listener.name.oauthbearer.sasl.enabled.mechanisms=OAUTHBEARER',
    'listener.name.oauthbearer.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
    'listener.name.oauthbearer.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    `sasl.oauthbearer.jwks.endpoint.url=${esc(oauth.jwksUrl)}`,
    `sasl.oauthbearer.expected.audience=${esc(oauth.audience)}`,
    ''
  ]
  return lines.join('\n')
}

/**
 * Logging: Kafka logs through SLF4J, which the pom binds to reload4j (slf4j-reload4j), so log4j.properties is what
 * configures the broker's own lines. Log4j 2 is on the classpath too and Kafka's Scala side (logger registration)
 * reconfigures it, which prints "ERROR Reconfiguration failed: No configuration found" without a log4j2 file; so
 * there is one of each, both writing to server.log, INFO and up, with the chattiest loggers at WARN.
 */
export function log4jProperties (logFile) {
  return `log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${esc(logFile)}
log4j.appender.file.Append=true
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.org.apache.kafka.clients=WARN
`
}

export function log4j2Yaml (logFile) {
  return `Configuration:
  name: flowgate-kafka-rig
  Appenders:
    File:
      name: file
      fileName: ${JSON.stringify(logFile)}
      append: true
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: file
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: state.change.logger
        level: WARN
`
}

/** Logging for tools (tool.mjs, kafka-storage format): warnings and errors on stderr, like Kafka's tools-log4j2.yaml. */
export function toolsLog4jProperties () {
  return `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
`
}

export function toolsLog4j2Yaml () {
  return `Configuration:
  name: flowgate-kafka-tools
  Appenders:
    Console:
      name: stderr
      target: SYSTEM_ERR
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: stderr
`
}
