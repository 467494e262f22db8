// The signaling API's error catalog (STYLE.md rule 6/14): each stable `code` with its HTTP
// status. Bodies are always `{"error":{"code","message"}}` (the shape of OpenAI's API errors),
// and the message says what to change. Documented in docs/signaling.md and docs/errors.md.
import { ParleyError, errorCatalog, type CodeOf } from '../../core/errors.ts';

export const SIGNALING_ERRORS = errorCatalog('SIGNALING', {
  badSdp: ['ERR_SIGNALING_BAD_SDP', 'the body is not SDP, or lacks what every WebRTC offer has (ICE credentials, fingerprint)', 400],
  unknownHandler: ['ERR_SIGNALING_UNKNOWN_HANDLER', '`?handler=` names no registered handler', 400],
  unauthorized: ['ERR_SIGNALING_UNAUTHORIZED', 'API keys are configured and the request has no valid `Authorization: Bearer KEY`', 401],
  notFound: ['ERR_SIGNALING_NOT_FOUND', 'unknown call id or path', 404],
  methodNotAllowed: ['ERR_SIGNALING_METHOD_NOT_ALLOWED', 'wrong method for the path; `Allow` lists the right ones', 405],
  sdpNotAcceptable: [
    'ERR_SIGNALING_SDP_NOT_ACCEPTABLE',
    'no audio, no Opus, not DTLS-SRTP, no rtcp-mux, or a fingerprint hash other than sha-256',
    406,
  ],
  bodyTooLarge: ['ERR_SIGNALING_BODY_TOO_LARGE', 'the body is over 64 KiB', 413],
  unsupportedMediaType: ['ERR_SIGNALING_UNSUPPORTED_MEDIA_TYPE', '`Content-Type` is not `application/sdp`', 415],
  atCapacity: ['ERR_SIGNALING_AT_CAPACITY', '`--max-sessions` calls are running; `Retry-After` says when to retry', 503],
  draining: [
    'ERR_SIGNALING_DRAINING',
    'the process is shutting down; `Retry-After` says when to retry (another transceiver will take it)',
    503,
  ],
  agentUnavailable: [
    'ERR_SIGNALING_AGENT_UNAVAILABLE',
    'the media handler could not reach its agent (for `realtime`: the model server is unreachable, refused, or closed before it was ready); the message says why',
    502,
  ],
  internalError: ['ERR_SIGNALING_INTERNAL_ERROR', 'a bug; logged', 500],
});
export const SignalingErrorCode = SIGNALING_ERRORS.codes;
export type SignalingErrorCode = CodeOf<typeof SIGNALING_ERRORS>;

const STATUS = new Map(SIGNALING_ERRORS.entries.map((e) => [e.value, e.status ?? 500]));

export class SignalingError extends ParleyError<SignalingErrorCode> {
  readonly status: number;
  /** Extra response headers (Allow, Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: SignalingErrorCode, message: string, headers: Record<string, string> = {}) {
    super(code, message);
    this.status = STATUS.get(code) ?? 500;
    this.headers = headers;
  }

  body(): string {
    return JSON.stringify({ error: { code: this.code, message: this.message } });
  }
}
