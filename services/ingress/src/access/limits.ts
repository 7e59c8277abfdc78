/**
 * The broker's limits, in one place: what keeps a gateway's memory bounded whatever devices send. Every value is
 * advertised to MQTT 5 devices in the CONNACK where the protocol has a property for it, and enforced for everyone.
 */
export interface BrokerLimits {
  /**
   * Unacknowledged QoS 1/2 PUBLISHes a device may have in flight to the broker (MQTT 5 Receive Maximum, §3.2.2.3.3).
   * A PUBACK waits for Kafka, so this bounds the messages held per connection; a v5 device that sends more is
   * disconnected with 0x93 (Receive Maximum exceeded).
   */
  receiveMaximum: number
  /**
   * Largest packet the broker accepts, in bytes (Maximum Packet Size, §3.2.2.3.6): a larger one ends the
   * connection (v5: DISCONNECT 0x95). 1 MiB matches Kafka's default `max.message.bytes`: a bigger message could not
   * reach Kafka anyway. The other direction is the device's own maximum: a message larger than it is not sent to it.
   */
  maximumPacketSize: number
  /** Connections the broker holds at once; the next CONNECT is refused (v5: 0x97 Quota exceeded, 3.1.1: 3). */
  maxConnections: number
  /**
   * Longest keep-alive a device may ask for, in seconds; 0 = any. v5 devices asking for more (or for none) get the
   * maximum as Server Keep Alive; 3.1.1 devices are refused, as aedes does (the protocol cannot lower it).
   */
  maxKeepAliveSeconds: number
  /**
   * Payload bytes of QoS 1 publishes held across all devices while their PUBACK waits for Kafka. Past it the
   * broker stops reading from each device that publishes (TCP back-pressure: the device's writes block) until the
   * total falls to three quarters, so memory stays flat whatever devices send while Kafka is slow or down.
   */
  maxHeldBytes: number
}

export const brokerLimitDefaults: Readonly<BrokerLimits> = {
  receiveMaximum: 65535,
  maximumPacketSize: 1024 * 1024,
  maxConnections: 50_000,
  maxKeepAliveSeconds: 0,
  maxHeldBytes: 256 * 1024 * 1024
}

/** MQTT 5 reason code for a device that exceeded the broker's Receive Maximum (§3.14.2.1). */
export const RECEIVE_MAXIMUM_EXCEEDED = 0x93
