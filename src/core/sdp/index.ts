// Public API of the SDP module: read a WebRTC offer, build the ICE-lite answer.
export { analyzeOffer } from './offer.ts';
export type { AudioOffer, DeclinedSection, Direction, OfferResult, OfferSummary, SetupRole } from './offer.ts';
export { buildAnswer, answerSetup, dtlsRole, candidatePriority } from './answer.ts';
export type { AnswerParams } from './answer.ts';
export { SDP_ERRORS, SdpError, SdpErrorCode } from './errors.ts';
