// The Node/V8 flags the transceiver process runs with wherever Parley starts it (`parley dev`, the
// Kubernetes manifest's NODE_OPTIONS, bench/calls.ts). They are flags of the node process, fixed
// when V8's heap is set up, so the transceiver cannot set them on itself.
// `--max-semi-space-size=8` caps V8's young generation at 8 MB per semi-space (Node 24's default
// lets it grow to 32 MB). With a bridged call's steady allocation the young generation grows to its
// maximum, and once it is larger than the old generation's headroom V8 turns nearly every
// young-generation cycle into a full mark-compact (docs/performance.md, "gc3"). Capped, the same
// CPU per call was measured with a third less memory per echo call and about half per realtime call
// (docs/performance.md, "Quiet-machine re-runs, 2026-12-07 10:19–10:34 UTC" and after it).
export const TRANSCEIVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
