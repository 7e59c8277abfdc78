/**
 * The one implementation behind both front doors (fastify routes and the fetch handler): limits, validation, then the
 * pure translation. Nothing here uses a Node API.
 */
import { translateKafkaToMqtt, translateMqttToKafka, TranslateError } from '@flowgate/translate'
import {
  FG_ERR_TRANSLATOR_INTERNAL, FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES, FG_ERR_TRANSLATOR_VALIDATION, TranslatorError
} from './errors.js'
import type { HandlerOptions } from './options.js'
import type { Route } from './schemas.js'
import { validateBody } from './validation.js'
import {
  contextFromJson, kafkaMessageFromJson, mqttMessageFromJson, settingsFromJson, toKafkaResultToJson, toMqttResultToJson
} from './wire.js'

export interface Answer { status: number, body: unknown }

/** Checked before schema validation: a huge batch is refused without validating every message of it. */
export function checkMessageCount (body: unknown, opts: HandlerOptions): void {
  const messages = (body as { messages?: unknown } | null)?.messages
  if (Array.isArray(messages) && messages.length > opts.maxMessages) throw FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES(messages.length, opts.maxMessages)
}

/** Translates a body that passed the route's schema. */
export function translateValidated (route: Route, body: any, opts: HandlerOptions): { results: unknown[] } {
  try {
    const settings = settingsFromJson(body.endpoint)
    const ctx = contextFromJson(body.context, opts.randomUUID)
    if (route === 'mqtt-to-kafka') {
      return { results: translateMqttToKafka(body.messages.map(mqttMessageFromJson), settings, ctx).map(toKafkaResultToJson) }
    }
    return { results: translateKafkaToMqtt(body.messages.map(kafkaMessageFromJson), settings, ctx).map(toMqttResultToJson) }
  } catch (err) {
    // The schema rules out what the library refuses; should the two ever disagree, say so as a 400, not a 500.
    if (err instanceof TranslateError) throw FG_ERR_TRANSLATOR_VALIDATION([{ path: '', message: err.message }])
    throw err
  }
}

/** Limits → validation → translation, as an answer (status and JSON body); never throws. */
export function answerTranslate (route: Route, body: unknown, opts: HandlerOptions): Answer {
  try {
    checkMessageCount(body, opts)
    const errors = validateBody(route, body)
    if (errors !== undefined) throw FG_ERR_TRANSLATOR_VALIDATION(errors)
    return { status: 200, body: translateValidated(route, body, opts) }
  } catch (err) {
    return errorAnswer(err)
  }
}

export function errorAnswer (err: unknown): Answer {
  const e = err instanceof TranslatorError ? err : FG_ERR_TRANSLATOR_INTERNAL()
  return { status: e.statusCode, body: e.toBody() }
}
