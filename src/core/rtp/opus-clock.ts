// The timing of the one audio stream a Parley call carries, both directions, both ends: Opus
// in 20 ms frames on the 48 kHz RTP clock. Constants only.

/** RFC 7587 §4.1: Opus always uses a 48 kHz RTP clock, whatever the codec's internal rate. */
export const OPUS_CLOCK_RATE = 48000;
/** One WebRTC voice frame (RFC 7587 §4.2 allows 2.5–120 ms; browsers send 20 ms). */
export const FRAME_MS = 20;
/** RTP timestamp ticks in one frame: 48 kHz × 20 ms. */
export const TICKS_PER_FRAME = (OPUS_CLOCK_RATE * FRAME_MS) / 1000;
