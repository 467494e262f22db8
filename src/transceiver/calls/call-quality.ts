// Per-call quality (issue #20 item 3): what GET …/calls/{id} shows as `quality`, what the
// `call closed` log line carries, and what the per-call histograms observe — RTT, jitter, loss
// and an estimated MOS. Pure: computed from a call's SessionStats, no clock, no I/O.
//
// The MOS is the E-model (ITU-T G.107) in the simplified form of Cole & Rosenbluth, "Voice over
// IP performance monitoring" (ACM CCR 31(2), 2001), as VoIP monitors use it:
//   d      = RTT/2 + 2·jitter + 20 ms          one-way mouth-to-ear delay: network, a jitter
//                                               buffer of twice the jitter, one 20 ms Opus frame
//   Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)          delay impairment (H: step)
//   Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl + Bpl)                 loss impairment (G.107 §7.2)
//            Ie = 0, Bpl = 25.1: G.113's values for G.711 with packet-loss concealment, the
//            nearest tabulated codec to Opus at voice rates (G.113 has no Opus entry)
//   R      = 93.2 − Id − Ie,eff
//   MOS    = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R), clamped to 1..4.5 (G.107 Annex B)
// Ppl is the worse direction's loss in percent: the client's stream as we count it (RFC 3550
// cumulative lost / expected) or ours as the client's last RTCP receiver report says. An
// estimate for comparing calls and locations, not a listening test.
import { FRAME_MS } from '../../core/rtp/index.ts';
import type { CallQuality, SessionStats } from './call-types.ts';

export type { CallQuality };

/** G.113 Ie and Bpl for G.711 with PLC (see the header). */
const IE = 0;
const BPL = 25.1;

/** The simplified E-model's R factor for a one-way delay (ms) and a loss percentage. */
export function rFactor(oneWayMs: number, lossPercent: number): number {
  const d = Math.max(0, oneWayMs);
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, lossPercent));
  const ie = IE + ((95 - IE) * ppl) / (ppl + BPL);
  return 93.2 - id - ie;
}

/** G.107 Annex B: R → MOS (conversational quality, estimated), 1..4.5. */
export function mosFromR(r: number): number {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  return Math.min(4.5, Math.max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)));
}

/** MOS for an RTT (unknown: counted as 0), jitter and loss ratio (0..1). */
export function estimateMos(rttMs: number | undefined, jitterMs: number, lossRatio: number): { rFactor: number; mos: number } {
  const r = rFactor((rttMs ?? 0) / 2 + 2 * jitterMs + FRAME_MS, 100 * lossRatio);
  return { rFactor: r, mos: mosFromR(r) };
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

export function callQuality(stats: SessionStats, setupMs: number | undefined): CallQuality {
  const expected = stats.packetsReceived + Math.max(0, stats.packetsLost);
  const lossRatio = expected > 0 ? Math.max(0, stats.packetsLost) / expected : 0;
  const remote = stats.remoteFractionLost;
  const heard = stats.packetsReceived > 0;
  const m = heard ? estimateMos(stats.rttMs, stats.jitterMs, Math.max(lossRatio, remote ?? 0)) : undefined;
  return {
    setupMs: setupMs === undefined ? undefined : Math.round(setupMs),
    rttMs: stats.rttMs === undefined ? undefined : round(stats.rttMs, 1),
    jitterMs: round(stats.jitterMs, 2),
    lossRatio: round(lossRatio, 4),
    remoteLossRatio: remote === undefined ? undefined : round(remote, 4),
    rFactor: m && round(m.rFactor, 1),
    mos: m && round(m.mos, 2),
  };
}
