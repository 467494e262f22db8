// The Node/V8 flags the transceiver process runs with wherever Parley starts it (`parley dev`, the
// Kubernetes manifest's NODE_OPTIONS, bench/calls.ts). They are flags of the node process, fixed
// when V8's heap is set up, so the transceiver cannot set them on itself.
// `--max-semi-space-size=8` caps V8's young generation at 8 MB per semi-space (Node 24's default
// lets it grow to 32 MB). With a bridged call's steady allocation the young generation grows to its
// maximum, and once it is larger than the old generation's headroom V8 turns nearly every
// young-generation cycle into a full mark-compact (docs/performance.md, "gc3"). Capped, the same
// CPU per call was measured with a third less memory per echo call and about half per realtime call
// (docs/performance.md, "Quiet-machine re-runs, 2026-12-07 10:19–10:34 UTC" and after it).
// Below them, the V8 flags the transceiver sets on itself.
import { setFlagsFromString } from 'node:v8';

export const TRANSCEIVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

// V8 flags the transceiver sets on itself as it starts (v8.setFlagsFromString), before its warm-up
// and its first call: they act on every function compiled afterwards, and NODE_OPTIONS refuses them
// ("--always-sparkplug is not allowed in NODE_OPTIONS"), so they are not in the list above.
// `--always-sparkplug` compiles a function to V8's baseline code (Sparkplug) on its first call
// instead of interpreting it until it has run often: what a call runs only a few times (the POST
// path, the first ICE reply, the DTLS flights) is otherwise interpreted in a pod's first calls,
// and what the start-up warm-up (src/cli/transceiver-warm-up.ts) cannot reach — the HTTP
// signaling path — in many more (docs/performance.md, "Start-up warm-up").
export const TRANSCEIVER_RUNTIME_V8_FLAGS: readonly string[] = ['--always-sparkplug'];

export function setTransceiverRuntimeV8Flags(): void {
  for (const flag of TRANSCEIVER_RUNTIME_V8_FLAGS) setFlagsFromString(flag);
}
