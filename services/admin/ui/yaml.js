// A small JSON → YAML writer for viewing and copying resources (block style, quoting only where YAML needs it).
const PLAIN = /^[A-Za-z_./][\w ./${}-]*$/
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~|[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|\.inf|\.nan)$/i

function scalar (v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  const s = String(v)
  if (s !== '' && PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(' ') && !s.includes(': ') && !s.includes(' #')) return s
  return JSON.stringify(s)
}

function key (k) { return PLAIN.test(k) && !RESERVED.test(k) && !k.includes(' ') ? k : JSON.stringify(k) }

function block (v, indent) {
  const pad = '  '.repeat(indent)
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []'
    return v.map((item) => {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) {
        const inner = block(item, indent + 1).replace(/^\n/, '')
        return `\n${pad}- ${inner.slice(pad.length + 2)}`
      }
      return `\n${pad}-${block(item, indent + 1)}`
    }).join('')
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v)
    if (entries.length === 0) return ' {}'
    return entries.map(([k, val]) => `\n${pad}${key(k)}:${block(val, indent + 1)}`).join('')
  }
  if (typeof v === 'string' && v.includes('\n')) {
    const lines = v.replace(/\n$/, '').split('\n').map((l) => '  '.repeat(indent) + l).join('\n')
    return ` |${v.endsWith('\n') ? '' : '-'}\n${lines}`
  }
  return ' ' + scalar(v)
}

export function toYaml (value) {
  return block(value, 0).replace(/^\n/, '') + '\n'
}
