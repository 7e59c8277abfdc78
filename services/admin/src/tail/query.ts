import { topicFilterProblem } from '@flowgate/mqtt'
import { TAIL_DIRECTIONS, type TailDirection } from './frame.js'
import type { TailFilter } from './hub.js'
import { tailDefaults } from './options.js'

export type TailQuery = { filter: TailFilter, maxPayload: number } | { problem: string }

/** `GET /api/v1/tail?dataflow=&namespace=&topic=&direction=&maxPayload=` read into a filter, or what is wrong with it. */
export function parseTailQuery (query: Record<string, unknown>): TailQuery {
  const filter: TailFilter = {}
  const str = (name: string): string | undefined => {
    const v = query[name]
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  const dataflow = str('dataflow')
  const namespace = str('namespace')
  const topic = str('topic')
  const direction = str('direction')
  if (dataflow !== undefined) filter.dataflow = dataflow
  if (namespace !== undefined) filter.namespace = namespace
  if (topic !== undefined) {
    const problem = topicFilterProblem(topic)
    if (problem !== undefined) return { problem: `topic: ${problem}` }
    filter.topic = topic
  }
  if (direction !== undefined) {
    if (!TAIL_DIRECTIONS.includes(direction as TailDirection)) return { problem: `direction: one of ${TAIL_DIRECTIONS.join(', ')}` }
    filter.direction = direction as TailDirection
  }
  let maxPayload: number = tailDefaults.maxPayload
  const raw = str('maxPayload')
  if (raw !== undefined) {
    maxPayload = Number(raw)
    if (!Number.isInteger(maxPayload) || maxPayload < 0 || maxPayload > tailDefaults.maxPayloadLimit) {
      return { problem: `maxPayload: an integer from 0 to ${tailDefaults.maxPayloadLimit}` }
    }
  }
  return { filter, maxPayload }
}
