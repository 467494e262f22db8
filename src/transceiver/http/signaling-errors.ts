// The signaling API's error catalog (STYLE.md rule 6/14): each stable `code` with its HTTP
// status. Bodies are always `{"error":{"message","type","code"}}` (OpenAI's API error shape: `type`
// is OpenAI's class of error, `code` our stable ERR_… code), and the message says what to change. Documented in docs/signaling.md and docs/errors.md.
import { ParleyError, errorCatalog, type CodeOf } from '../../core/errors.ts';

export const SIGNALING_ERRORS = errorCatalog('SIGNALING', {
  badSdp: ['ERR_SIGNALING_BAD_SDP', 'the body is not SDP, or lacks what every WebRTC offer has (ICE credentials, fingerprint)', 400],
  unknownHandler: ['ERR_SIGNALING_UNKNOWN_HANDLER', '`?handler=` names no registered handler', 400],
  badRequest: ['ERR_SIGNALING_BAD_REQUEST', 'the JSON body or a field of it is invalid (client_secrets: `expires_after`, `session`)', 400],
  badMultipart: [
    'ERR_SIGNALING_BAD_MULTIPART',
    'a `multipart/form-data` offer that does not parse, has unknown or too many parts, or no `sdp` part',
    400,
  ],
  unauthorized: ['ERR_SIGNALING_UNAUTHORIZED', 'API keys are configured and the request has no valid `Authorization: Bearer KEY`', 401],
  invalidClientSecret: [
    'ERR_SIGNALING_INVALID_CLIENT_SECRET',
    'the `ek_…` client secret is expired, forged, malformed or from another keyring',
    401,
  ],
  notFound: ['ERR_SIGNALING_NOT_FOUND', 'unknown call id or path', 404],
  methodNotAllowed: ['ERR_SIGNALING_METHOD_NOT_ALLOWED', 'wrong method for the path; `Allow` lists the right ones', 405],
  sdpNotAcceptable: [
    'ERR_SIGNALING_SDP_NOT_ACCEPTABLE',
    'no audio, no Opus, not DTLS-SRTP, no rtcp-mux, or a fingerprint hash other than sha-256',
    406,
  ],
  bodyTooLarge: ['ERR_SIGNALING_BODY_TOO_LARGE', 'the body is over 64 KiB', 413],
  tooManyRequests: [
    'ERR_SIGNALING_TOO_MANY_REQUESTS',
    'this client (IP, /64, or API key) is over an admission limit (offer rate, unconnected calls, calls); `Retry-After` says when to retry',
    429,
  ],
  unsupportedMediaType: [
    'ERR_SIGNALING_UNSUPPORTED_MEDIA_TYPE',
    '`Content-Type` is not `application/sdp` or `multipart/form-data` (calls), or not `application/json` (client_secrets)',
    415,
  ],
  rateLimited: ['ERR_SIGNALING_RATE_LIMITED', 'too many client_secrets requests from this address; `Retry-After` says when', 429],
  sidebandLimit: [
    'ERR_SIGNALING_SIDEBAND_LIMIT',
    'a sideband (`GET /v1/realtime?call_id=`) over a limit: upgrades per address, sidebands open per API key or process, or per call; `Retry-After` says when',
    429,
  ],
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

/** OpenAI's error `type` for a status. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

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
    return JSON.stringify({ error: { message: this.message, type: errorType(this.status), code: this.code } });
  }
}
