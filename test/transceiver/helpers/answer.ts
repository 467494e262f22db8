// What a test needs to read from a transceiver's SDP answer: the token (ice-ufrag), password,
// fingerprint, setup and candidates, parsed with sdp-transform rather than our own code.
import { parse } from 'sdp-transform';
import type { TransportAddress } from '../../../src/core/address.ts';

export interface AnswerFacts {
  readonly ufrag: string;
  readonly pwd: string;
  readonly fingerprint: string;
  readonly candidates: TransportAddress[];
  readonly setup: string;
}

export function readAnswer(sdp: string): AnswerFacts {
  const audio = parse(sdp).media[0];
  return {
    ufrag: audio.iceUfrag!,
    pwd: audio.icePwd!,
    fingerprint: audio.fingerprint!.hash,
    setup: audio.setup!,
    candidates: (audio.candidates ?? []).map((c) => ({ address: c.ip, port: c.port, family: c.ip.includes(':') ? 'IPv6' : 'IPv4' })),
  };
}
