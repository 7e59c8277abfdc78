import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * Prometheus metrics of the dataflow runtime. Names follow AIO's `aio_<component>_<what>` style
 * (`aio_broker_publishes_received`…) with Prometheus' `_total` suffix on counters; every series carries the
 * dataflow and its namespace.
 */
export function createDataflowMetrics (registry: Registry = new Registry()) {
  const labelNames = ['namespace', 'dataflow'] as const
  return {
    registry,
    received: new Counter({ name: 'aio_dataflow_messages_received_total', help: 'Messages a dataflow took from its source', labelNames, registers: [registry] }),
    receivedBytes: new Counter({ name: 'aio_dataflow_bytes_received_total', help: 'Payload bytes a dataflow took from its source', labelNames, registers: [registry] }),
    sent: new Counter({ name: 'aio_dataflow_messages_sent_total', help: 'Messages acknowledged by the destination', labelNames, registers: [registry] }),
    sentBytes: new Counter({ name: 'aio_dataflow_bytes_sent_total', help: 'Payload bytes acknowledged by the destination', labelNames, registers: [registry] }),
    dropped: new Counter({ name: 'aio_dataflow_messages_dropped_total', help: 'Messages not delivered, by reason (expired, invalid-topic, too-large, …)', labelNames: [...labelNames, 'reason'], registers: [registry] }),
    buffered: new Gauge({ name: 'aio_dataflow_messages_buffered', help: 'Messages held while the destination works or is down', labelNames, registers: [registry] }),
    consumerLag: new Gauge({ name: 'aio_dataflow_consumer_lag_messages', help: 'Kafka → MQTT: records behind the partition end', labelNames: [...labelNames, 'topic', 'partition'], registers: [registry] }),
    sendLatency: new Histogram({
      name: 'aio_dataflow_send_latency_seconds',
      help: 'From taking a message to the destination acknowledging it',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry]
    })
  }
}

export type DataflowMetrics = ReturnType<typeof createDataflowMetrics>
