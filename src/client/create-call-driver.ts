// The one place a client picks its transport by name (`parley call --tcp`, `parley load --tcp`).
import type { Clock } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import type { CallDriver } from './call-driver.ts';
import type { CallTransportName } from './call-transport.ts';
import { TcpCallDriver } from './tcp-driver.ts';
import { UdpCallDriver } from './udp-driver.ts';

export function createCallDriver(transport: CallTransportName, clock: Clock = systemClock): CallDriver {
  return transport === 'tcp' ? new TcpCallDriver(clock) : new UdpCallDriver(clock);
}
