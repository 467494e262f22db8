// Errors of the media-handler registry. Stable codes (STYLE.md rule 6) so the signaling layer
// can turn an unknown `?handler=` into a clear 400 without matching on messages.
import { ParleyError } from '../../core/errors.ts';

export const HandlerErrorCode = {
  /** A handler name is not `[a-z0-9][a-z0-9_-]{0,31}` (it travels in a URL query). */
  BadName: 'HANDLER_BAD_NAME',
  /** A handler of that name is already registered and `replace` was not asked for. */
  Exists: 'HANDLER_EXISTS',
  /** A handler option is out of range (for example a tone frequency). */
  BadOption: 'HANDLER_BAD_OPTION',
} as const;
export type HandlerErrorCode = (typeof HandlerErrorCode)[keyof typeof HandlerErrorCode];

export class HandlerError extends ParleyError {
  declare readonly code: HandlerErrorCode;
  constructor(code: HandlerErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
