import { setFlagsFromString } from 'node:v8'

/**
 * The V8 flags `flowgate start` runs with: package.json's `start` and `flowgate` scripts pass them to node, and the
 * benches start the gateway (and the aedes-alone reference) with the same ones.
 *
 * `--max-semi-space-size=64` (MB): a device message's objects live from its PUBLISH to Kafka's answer, 10–50 ms under
 * load. With V8's default 16 MB semi-spaces the young generation was scavenged every ~30 ms at 62,000 msg/s, so most
 * of them survived a scavenge or two and were promoted — 3–4 ms per scavenge and a mark-compact every ~2 s. With 64 MB
 * they die young: on the 2-core bench machine minor-GC time fell from ~0.8 s to ~0.18 s per run, p99 publish→PUBACK
 * at 62,000 msg/s from 46–65 ms to 22–34 ms, and the flat-out rate rose ~25 %. The cost is up to ~190 MB more
 * address space for the young generation, used only as traffic fills it.
 */
export const gatewayNodeFlags: readonly string[] = ['--max-semi-space-size=64']

/**
 * V8 flags set from inside the process, for every process that carries messages (`start` and each of its workers,
 * `ingress`, `egress`), however node was started: node refuses them in NODE_OPTIONS, and V8 reads them as it works.
 * Found with `pnpm bench fleet` (5,000 devices × 2 QoS 1 msg/s, 2 cores shared with Kafka and the load) and V8's
 * own GC trace (`--trace-gc-nvp`); test/bench/README.md has the runs.
 *
 * `--no-allocation-site-pretenuring`: once V8 saw many of a site's objects survive a scavenge (a burst, a slow Kafka
 * answer), it allocated that site's objects in the old generation from then on. A message's objects there hold
 * pointers to the young objects allocated after them, so those survived every scavenge too and were promoted — the
 * feedback kept itself going: each scavenge (every ~0.5 s) copied 3.3 MB and promoted 2.7 MB, ~5 MB/s of garbage
 * for mark-compacts, in runs where it started (not every run). aedes alone copies 0.6 MB and promotes ~3 KB; with
 * the flag the gateway copies 0.6–0.8 MB and promotes 0.2 MB, in every run.
 *
 * `--no-parallel-scavenge`: with that little to copy, one thread does it in a few ms; in parallel, V8's helper
 * threads spun for several times the pause on other cores — cores the gateway shares with its workers, Kafka and
 * the devices' load — and the pause waited for the slowest of them.
 *
 * Together: scavenge pause 13–20 → 6–7 ms, p99 publish→PUBACK 28–62 → 14–18 ms, gateway CPU 48–52 → 45–48 %, RSS
 * publishing 450–525 → 332–340 MB; the flat-out rate of `pnpm bench mqtt-to-kafka` did not drop. Naming the
 * opposite flag to node (`node --parallel-scavenge …`) keeps V8's default for that one.
 */
export const runtimeV8Flags: readonly string[] = ['--no-parallel-scavenge', '--no-allocation-site-pretenuring']

export function applyRuntimeV8Flags (execArgv: readonly string[] = process.execArgv): string[] {
  const applied: string[] = []
  for (const flag of runtimeV8Flags) {
    const positive = flag.replace(/^--no-/, '--')
    if (execArgv.some((a) => a === positive || a === flag)) continue
    setFlagsFromString(flag)
    applied.push(flag)
  }
  return applied
}
