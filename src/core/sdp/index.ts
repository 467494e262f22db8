// Public API of the SDP module: read a WebRTC offer, build the ICE-lite answer.
export { analyzeOffer } from './offer.ts';
export type { AudioOffer, DeclinedSection, Direction, OfferResult, OfferSummary, SetupRole } from './offer.ts';
export { buildAnswer, acceptsData, answerSetup, dtlsRole, candidatePriority, tcpCandidatePriority } from './answer.ts';
export { DEFAULT_LOCAL_MAX_MESSAGE_SIZE, DEFAULT_SCTP_PORT, dataAnswerSection, findDataOffer } from './datachannel.ts';
export type { DataAnswerParams, DataOffer } from './datachannel.ts';
export type { AnswerParams } from './answer.ts';
export { DEFAULT_SDP_LIMITS, checkSdpLimits } from './limits.ts';
export type { SdpLimits } from './limits.ts';
export { SDP_ERRORS, SdpError, SdpErrorCode } from './errors.ts';
