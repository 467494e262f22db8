// A bad setting: names the setting (flag and environment variable) and says why, so the
// process can exit with a message an operator can act on (exit status 2).
import { ParleyError } from '../core/errors.ts';

export class ConfigError extends ParleyError {
  readonly setting: string;
  constructor(setting: string, reason: string) {
    super('ERR_CONFIG', `invalid setting ${setting}: ${reason}`);
    this.setting = setting;
  }
}
