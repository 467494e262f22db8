// Errors of the command-line client (src/client): why a call could not be set up or ended
// early. One catalog of stable codes (STYLE.md rule 6); `parley call` prints the message and
// `--json` carries the code, so scripts branch on the code, never on the text.
import { ParleyError } from '../core/errors.ts';

export const ClientErrorCode = {
  /** The signaling POST failed: network error, or a non-201 status (the body says why). */
  Signaling: 'ERR_CLIENT_SIGNALING',
  /** The answer is not SDP we can use: no audio, no ICE credentials, no fingerprint, no candidate. */
  BadAnswer: 'ERR_CLIENT_BAD_ANSWER',
  /** No STUN check succeeded before the connect deadline. */
  IceFailed: 'ERR_CLIENT_ICE_FAILED',
  /** The DTLS handshake failed (alert, bad fingerprint, no common SRTP profile). */
  DtlsFailed: 'ERR_CLIENT_DTLS_FAILED',
  /** ICE and DTLS did not both complete before the connect deadline. */
  ConnectTimeout: 'ERR_CLIENT_CONNECT_TIMEOUT',
  /** Consent checks stopped being answered during the call (RFC 7675 §5.1). */
  ConsentLost: 'ERR_CLIENT_CONSENT_LOST',
  /** The peer ended the call (DTLS close_notify). */
  RemoteClosed: 'ERR_CLIENT_REMOTE_CLOSED',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ClientError extends ParleyError {
  declare readonly code: ClientErrorCode;
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
