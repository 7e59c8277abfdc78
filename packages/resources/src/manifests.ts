import { type Alias, isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, Scalar, visit, YAMLSeq, LineCounter, type Document, type Node } from 'yaml'
import { ManifestSyntaxError } from './errors.js'

/** One resource document out of a manifest file, with a way back from a JSON Pointer to its line. */
export interface ManifestDocument {
  /** 0-based position among the resources of the file (a `List` or a top-level sequence counts its items). */
  index: number
  value: unknown
  filename: string
  /** 1-based line where this resource starts. */
  line: number
  /** 1-based line of the node at `pointer` (`/spec/kafkaSettings/compression`), or of its nearest existing parent. */
  lineOf: (pointer: string) => number
}

export interface ParseOptions {
  filename?: string
}

/**
 * Parses JSON, YAML or multi-document YAML (`---`), expanding `kind: List` and top-level sequences.
 * Syntax errors throw ManifestSyntaxError with `file:line:col`.
 *
 * A bare `*` — the seed's Dataflow writes `dataSources:\n  *` — is a YAML alias with an empty name, an error to
 * every YAML parser. The user means "all topics": Flowgate reads an empty alias as the string `*`, and as the
 * list `['*']` where it is the value of `dataSources`.
 */
export function parseManifests (text: string, options: ParseOptions = {}): ManifestDocument[] {
  const filename = options.filename ?? '<input>'
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const list = Array.isArray(docs) ? docs : [docs]
  const out: ManifestDocument[] = []
  for (const doc of list) {
    readBareStars(doc)
    const unresolved = firstUnresolvedAlias(doc)
    if (unresolved !== undefined) {
      const { line, col } = lineCounter.linePos(unresolved.range?.[0] ?? 0)
      throw new ManifestSyntaxError(filename, line, col, `alias *${unresolved.source} has no anchor &${unresolved.source} before it`)
    }
    const error = doc.errors[0]
    if (error !== undefined) {
      const { line, col } = lineCounter.linePos(error.pos[0])
      throw new ManifestSyntaxError(filename, line, col, error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''))
    }
    const root = doc.contents
    if (root === null || (isScalar(root) && root.value === null)) continue
    for (const node of expandLists(root)) {
      const line = (n: Node | undefined): number => lineCounter.linePos(n?.range?.[0] ?? 0).line
      out.push({
        index: out.length,
        value: node.toJSON(),
        filename,
        line: line(node),
        lineOf: (pointer: string) => line(nodeAt(node, pointer))
      })
    }
  }
  return out
}

function readBareStars (doc: Document.Parsed): void {
  if (!doc.errors.some((e) => e.code === 'BAD_ALIAS')) return
  let fixed = 0
  visit(doc, {
    Alias (_key, node, path) {
      if (node.source !== '') return undefined
      fixed++
      const parent = path[path.length - 1]
      const star = new Scalar('*')
      star.range = node.range
      if (isPair(parent) && isScalar(parent.key) && String(parent.key.value).toLowerCase() === 'datasources') {
        const seq = new YAMLSeq()
        seq.items.push(star)
        seq.range = node.range
        return seq
      }
      return star
    }
  })
  if (fixed > 0) doc.errors = doc.errors.filter((e) => e.code !== 'BAD_ALIAS' || !/empty/i.test(e.message))
}

function firstUnresolvedAlias (doc: Document.Parsed): Alias | undefined {
  let found: Alias | undefined
  visit(doc, {
    Alias (_key, node) {
      if (node.resolve(doc) === undefined) {
        found = node
        return visit.BREAK
      }
      return undefined
    }
  })
  return found
}

function expandLists (root: Node): Node[] {
  if (isSeq(root)) return root.items.filter((n): n is Node => n !== null && typeof n === 'object' && !isAlias(n)) as Node[]
  if (isMap(root)) {
    const kind = root.get('kind')
    const items = root.get('items', true)
    if (typeof kind === 'string' && kind.toLowerCase() === 'list' && isSeq(items)) return items.items as Node[]
  }
  return [root]
}

function nodeAt (root: Node, pointer: string): Node {
  let node: Node = root
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    let next: unknown
    if (isMap(node)) {
      // Field names match case-insensitively (normalise.ts), so the pointer's spelling may differ from the file's.
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key) ??
        node.items.find((p) => isScalar(p.key) && String(p.key.value).toLowerCase() === key.toLowerCase())
      // A missing field: point at the map that should have held it.
      next = pair === undefined ? undefined : (pair.value ?? pair.key)
    } else if (isSeq(node)) {
      next = node.items[Number(key)]
    }
    if (next === undefined || next === null || typeof next !== 'object') break
    node = next as Node
  }
  return node
}
