// Errors of the media-handler registry. Stable codes (STYLE.md rule 6) so the signaling layer
// can turn an unknown `?handler=` into a clear 400 without matching on messages.
import { ParleyError, errorCatalog, type CodeOf } from '../../core/errors.ts';

export const HANDLER_ERRORS = errorCatalog('HANDLER', {
  BadName: ['ERR_HANDLER_BAD_NAME', 'a handler name is not `[a-z0-9][a-z0-9_-]{0,31}` (it travels in a URL query)'],
  Exists: ['ERR_HANDLER_EXISTS', 'a handler of that name is already registered and `replace` was not asked for'],
  BadOption: ['ERR_HANDLER_BAD_OPTION', 'a handler option is out of range (for example a tone frequency)'],
});
export const HandlerErrorCode = HANDLER_ERRORS.codes;
export type HandlerErrorCode = CodeOf<typeof HANDLER_ERRORS>;

export class HandlerError extends ParleyError<HandlerErrorCode> {}
