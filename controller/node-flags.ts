// The Node flags the controller runs with, wherever it is started: `npm start`, the Dockerfile, and
// the controllers the labs and benchmarks start (topologies/case-study/controller-process.ts,
// bench/peers.ts). package.json and the Dockerfile cannot import this list; a unit test
// (test/unit/node-flags.test.ts) checks that they carry it.
//
// --max-semi-space-size=64 (MiB): V8's young generation. Every packet-in allocates its decoded
// message, the parsed frame and the encoded answers, which die young; with Node 20's default
// semi-space (16 MiB on 64-bit) the scavenges come often enough to set the packet-in latency's tail.
// Measured side by side (bench/controllers, 16 switches, one packet-in outstanding each, 2026-11-30,
// 3 rounds alternating): p99 2.7-3.3 ms against 5.6-6.4 ms with the default, the median (1.1-1.3 ms)
// and the throughput (40-50k/s) unchanged. The price: up to 3 x 64 MiB more of reserved young
// generation; the live heap (and so the memory per binding) is the same.
//
// --min-semi-space-size=16 (MiB): the floor V8 may shrink the young generation to. A quiet
// controller (a lab, between migrations) allocates slowly, and after a full GC V8 shrinks the young
// generation to 1 MiB; its scavenges (1-4 ms each) then came about once a second and landed inside
// migrations: lined up with 50-move Mininet runs of announced moves (2026-11-30), a scavenge fell
// inside 16 of 120 moves without the floor, 2 of 200 with it. The price: the young generation's
// reserve; RSS idle +2 MB, under packet-ins +24 MB (bench/peers' controller, 4 switches).
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=16'];
