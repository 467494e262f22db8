// A bad setting: names the setting (flag and environment variable) and says why, so the
// process can exit with a message an operator can act on (exit status 2). The CONFIG area's
// error catalog (STYLE.md rule 6).
import { ParleyError, errorCatalog, type CodeOf } from '../core/errors.ts';

export const CONFIG_ERRORS = errorCatalog('CONFIG', {
  invalid: ['ERR_CONFIG_INVALID', 'a value that does not parse, is out of range, or conflicts with another setting'],
  unknownOption: ['ERR_CONFIG_UNKNOWN_OPTION', 'a `--flag` the command does not have'],
  missingValue: ['ERR_CONFIG_MISSING_VALUE', 'a `--flag` given last, without its value'],
  repeated: ['ERR_CONFIG_REPEATED', 'a flag that does not repeat, given more than once'],
  unexpectedArgument: ['ERR_CONFIG_UNEXPECTED_ARGUMENT', 'a word that is not `--name VALUE`'],
  noKeys: ['ERR_CONFIG_NO_KEYS', 'neither --keys-file nor PARLEY_KEYS is set'],
  keysUnreadable: ['ERR_CONFIG_KEYS_UNREADABLE', 'the --keys-file cannot be read'],
  badKeys: ['ERR_CONFIG_BAD_KEYS', 'the keyring does not parse (the ERR_KEYRING_… code is in the message and the cause)'],
});
export const ConfigErrorCode = CONFIG_ERRORS.codes;
export type ConfigErrorCode = CodeOf<typeof CONFIG_ERRORS>;

export class ConfigError extends ParleyError<ConfigErrorCode> {
  readonly setting: string;
  constructor(setting: string, reason: string, code: ConfigErrorCode = ConfigErrorCode.invalid, options?: ErrorOptions) {
    super(code, `invalid setting ${setting}: ${reason}`, options);
    this.setting = setting;
  }
}
