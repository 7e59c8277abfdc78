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
