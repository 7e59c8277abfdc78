/**
 * Kafka's `acks` for a `kafkaAcks` value (DESIGN §2). Kafka has no "leader and one follower" level, whatever the
 * seed's prose says: Flowgate follows the value names, as Kafka's own `acks` does. `None` is the preview API's
 * alias of `Zero`.
 */
export function kafkaAcksValue (acks: 'Zero' | 'One' | 'All' | 'None'): 0 | 1 | -1 {
  switch (acks) {
    case 'Zero':
    case 'None': return 0
    case 'One': return 1
    case 'All': return -1
  }
}
