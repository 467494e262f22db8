// Errors of the command-line client (src/client): why a call could not be set up or ended
// early. One catalog of stable codes (STYLE.md rule 6); `parley call` prints the message and
// `--json` carries the code, so scripts branch on the code, never on the text.
import { ParleyError, errorCatalog, type CodeOf } from '../core/errors.ts';

export const CLIENT_ERRORS = errorCatalog('CLIENT', {
  BindFailed: ['ERR_CLIENT_BIND_FAILED', 'parley load could not bind a local UDP socket for a call'],
  Signaling: ['ERR_CLIENT_SIGNALING', 'the signaling POST failed: network error, or a non-201 status (the body says why)'],
  BadAnswer: ['ERR_CLIENT_BAD_ANSWER', 'the answer is not SDP we can use: no audio, no ICE credentials, no fingerprint, no candidate'],
  BadWav: ['ERR_CLIENT_BAD_WAV', 'the WAV to send is not 48 kHz (parley call does not resample)'],
  IceFailed: ['ERR_CLIENT_ICE_FAILED', 'no STUN check succeeded before the connect deadline'],
  DtlsFailed: ['ERR_CLIENT_DTLS_FAILED', 'the DTLS handshake failed (alert, bad fingerprint, no common SRTP profile)'],
  ConnectTimeout: ['ERR_CLIENT_CONNECT_TIMEOUT', 'ICE and DTLS did not both complete before the connect deadline'],
  ConsentLost: ['ERR_CLIENT_CONSENT_LOST', 'consent checks stopped being answered during the call (RFC 7675 §5.1)'],
  RemoteClosed: ['ERR_CLIENT_REMOTE_CLOSED', 'the peer ended the call (DTLS close_notify)'],
  DataChannel: ['ERR_CLIENT_DATA_CHANNEL', '--datachannel: the channel did not open, or what came back was missing or not byte-exact'],
});
export const ClientErrorCode = CLIENT_ERRORS.codes;
export type ClientErrorCode = CodeOf<typeof CLIENT_ERRORS>;

export class ClientError extends ParleyError<ClientErrorCode> {
  /** For Signaling: the HTTP status the server answered with (503 = full or draining), if it answered. */
  readonly httpStatus: number | undefined;
  constructor(code: ClientErrorCode, message: string, options?: ErrorOptions & { httpStatus?: number }) {
    super(code, message, options);
    this.httpStatus = options?.httpStatus;
  }

  /** A failure reason for counting: the code, with the HTTP status when the server refused. */
  get reason(): string {
    return this.httpStatus === undefined ? this.code : `${this.code} (HTTP ${this.httpStatus})`;
  }
}
