// What an offer and the call's routing token decide about its Session: the ICE credentials of
// both sides, the DTLS role and the peer's fingerprint (RFC 5763 §5), and the audio payload
// types. One mapping for the calls the registry makes (call-registry.ts) and for the ones the
// start-up warm-up sets up in memory (src/cli/transceiver-warm-up.ts).
import type { DtlsCertificate } from '../../core/dtls/index.ts';
import { dtlsRole } from '../../core/sdp/index.ts';
import type { OfferSummary } from '../../core/sdp/index.ts';
import type { MintResult } from '../../core/token/index.ts';
import type { SessionOptions } from './session.ts';

export type OfferSessionOptions = Pick<
  SessionOptions,
  | 'localUfrag'
  | 'localPwd'
  | 'remoteUfrag'
  | 'remotePwd'
  | 'dtlsRole'
  | 'certificate'
  | 'remoteFingerprint'
  | 'opusPayloadType'
  | 'telephoneEventPayloadType'
>;

export function offerSessionOptions(offer: OfferSummary, token: MintResult, certificate: DtlsCertificate): OfferSessionOptions {
  return {
    localUfrag: token.ufrag,
    localPwd: token.pwd,
    remoteUfrag: offer.iceUfrag,
    remotePwd: offer.icePwd,
    dtlsRole: dtlsRole(offer.setup),
    certificate,
    remoteFingerprint: offer.fingerprint.value,
    opusPayloadType: offer.audio.opusPayloadType,
    telephoneEventPayloadType: offer.audio.telephoneEventPayloadType,
  };
}
