// One sans-IO WebRTC audio peer for both ends of a Parley call, and its parts: the paced RTP
// sender and the RTCP session. See docs/architecture.md.
export {
  RtpSender,
  DEFAULT_QUEUE_FRAMES,
  DEFAULT_MAX_LAG_MS,
  DTMF_DEFAULT_DURATION_MS,
  DTMF_MAX_DURATION_MS,
  DTMF_MAX_QUEUED,
  DTMF_MIN_DURATION_MS,
} from './rtp-sender.ts';
export type { AudioSource, RtpSenderOptions } from './rtp-sender.ts';
export { RtcpSession, DEFAULT_RTCP_INTERVAL_MS, DEFAULT_FIRST_REPORT_MS } from './rtcp-session.ts';
export type { RtcpSessionOptions, SenderInfo } from './rtcp-session.ts';
export { AudioPeer, EARLY_SEND_MS } from './audio-peer.ts';
export { PeerData, DEFAULT_MAX_BURST_PACKETS, DEFAULT_REMOTE_MAX_MESSAGE_SIZE } from './peer-data.ts';
export { Pacer, PACING_SLOT_MS, DEFAULT_MAX_BYTES_PER_SLOT } from './pacer.ts';
export type { PacerOptions } from './pacer.ts';
export type { PeerDataOptions, PeerDataStats } from './peer-data.ts';
export { ADDRESS_PATHS, PEER_FAILURES } from './peer-types.ts';
export { PEER_DROP_REASONS, PEER_DROPS } from './errors.ts';
export type { PeerDrop, PeerDropReason } from './errors.ts';
export type {
  AudioPeerOptions,
  ControllingIceAgent,
  ControllingIceEvent,
  LiteIceOptions,
  PeerAudio,
  PeerDump,
  PeerEvent,
  PeerFailure,
  PeerIce,
  PeerPaths,
  PeerState,
  PeerStats,
  PeerTransmit,
} from './peer-types.ts';
