// The signaling API's error catalog (STYLE.md rule 6/14): each stable `code` with its HTTP
// status. Bodies are always `{"error":{"code","message"}}` (the shape of OpenAI's API errors),
// and the message says what to change. Documented in docs/signaling.md.
import { ParleyError } from '../core/errors.ts';

export const SignalingErrors = {
  bad_sdp: 400,
  unknown_handler: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  sdp_not_acceptable: 406,
  body_too_large: 413,
  unsupported_media_type: 415,
  at_capacity: 503,
  draining: 503,
  internal_error: 500,
} as const;
export type SignalingErrorCode = keyof typeof SignalingErrors;

export class SignalingError extends ParleyError {
  declare readonly code: SignalingErrorCode;
  readonly status: number;
  /** Extra response headers (Allow, Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: SignalingErrorCode, message: string, headers: Record<string, string> = {}) {
    super(code, message);
    this.status = SignalingErrors[code];
    this.headers = headers;
  }

  body(): string {
    return JSON.stringify({ error: { code: this.code, message: this.message } });
  }
}
