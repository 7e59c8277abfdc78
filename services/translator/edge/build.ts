/**
 * Bundles the translator's Worker entry (edge/worker.ts) once, with esbuild, into one ES module with no Node
 * built-in and no code generation at run time: src/validators.ts (ajv compiling with `new Function`) is swapped for
 * the validators compiled ahead of time from the same schemas (edge/precompile.ts). Beside the bundle go the two
 * runtime shells, workerd.capnp and deno-serve.mjs.
 *
 *   pnpm --filter @flowgate/translator build:edge      # → services/translator/edge/dist/translator.mjs
 */
import { build, type Plugin } from 'esbuild'
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { precompiledValidatorsSource } from './precompile.js'

const here = dirname(fileURLToPath(import.meta.url))
const packageRoot = join(here, '..')
export const defaultOutDir = join(here, 'dist')

export interface EdgeBuild {
  outDir: string
  /** The bundle: an ES module, `export default { fetch }`. */
  bundle: string
  bytes: number
  gzipBytes: number
  /** Every source file in the bundle, relative to the translator package. */
  inputs: string[]
  workerdConfig: string
  denoServe: string
}

/** Routes the runtime-compiling validators module to the precompiled one; refuses any Node built-in. */
function edgePlugin (): Plugin {
  return {
    name: 'flowgate-edge',
    setup (b) {
      b.onResolve({ filter: /^\.\/validators\.js$/ }, (args) => {
        if (args.importer !== join(packageRoot, 'src', 'validation.ts')) return undefined
        return { path: 'precompiled-validators.mjs', namespace: 'flowgate-precompiled' }
      })
      b.onLoad({ filter: /.*/, namespace: 'flowgate-precompiled' }, () => ({ contents: precompiledValidatorsSource(), loader: 'js', resolveDir: packageRoot }))
      b.onResolve({ filter: /^node:|^(fs|path|os|crypto|buffer|stream|util|events|net|http|https|zlib|url|child_process|worker_threads)$/ }, (args) => ({
        errors: [{ text: `Node built-in ${args.path} imported by ${args.importer}: the edge bundle must run without Node` }]
      }))
    }
  }
}

export async function buildEdge (outDir: string = defaultOutDir): Promise<EdgeBuild> {
  mkdirSync(outDir, { recursive: true })
  const bundle = join(outDir, 'translator.mjs')
  const result = await build({
    entryPoints: [join(here, 'worker.ts')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    plugins: [edgePlugin()]
  })
  copyFileSync(join(here, 'workerd.capnp'), join(outDir, 'workerd.capnp'))
  copyFileSync(join(here, 'deno-serve.mjs'), join(outDir, 'deno-serve.mjs'))
  const bytes = readFileSync(bundle)
  return {
    outDir,
    bundle,
    bytes: bytes.byteLength,
    gzipBytes: gzipSync(bytes).byteLength,
    inputs: Object.keys(result.metafile.inputs),
    workerdConfig: join(outDir, 'workerd.capnp'),
    denoServe: join(outDir, 'deno-serve.mjs')
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildEdge(process.argv[2] ?? defaultOutDir)
  console.log(`${out.bundle}: ${out.bytes} bytes (${out.gzipBytes} gzipped), ${out.inputs.length} inputs`)
}
