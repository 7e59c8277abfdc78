import t from 'tap'
import { toMqttJsUserProperties, userPropertiesFrom } from '../src/user-properties.js'

t.test('user properties keep their order, repeated names and even a name like "__proto__" in mqtt.js form', async (t) => {
  const out = toMqttJsUserProperties([['a', '1'], ['__proto__', 'x'], ['a', '2'], ['constructor', 'c'], ['a', '3']])
  t.strictSame(Object.keys(out), ['a', '__proto__', 'constructor'])
  t.strictSame(out.a, ['1', '2', '3'])
  t.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'x', 'an own property, not the prototype')
  t.equal(Object.getPrototypeOf(out), Object.prototype)
  t.strictSame(userPropertiesFrom(out), [['a', '1'], ['a', '2'], ['a', '3'], ['__proto__', 'x'], ['constructor', 'c']])
})
