// Our ClientCall on a real UDP socket (UdpCallDriver, real time), for tests of whole processes:
// POSTs its own offer to a transceiver, takes the answer, and keeps every event, so a test can
// wait for what the caller heard (audio, the server's RTCP BYE, its close_notify).
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { ClientCall } from '../../../src/client/client-call.ts';
import type { ClientCallEvent } from '../../../src/client/client-call.ts';
import { createCoreAgents } from '../../../src/client/core-agents.ts';
import type { CallBinding, UdpCallDriver } from '../../../src/client/udp-driver.ts';

const agents = createCoreAgents(seededRng('udp-client-cert'));

export class UdpClient {
  readonly call: ClientCall;
  readonly binding: CallBinding;
  readonly events: ClientCallEvent[] = [];
  /** From the 201: the answer and the call's Location. */
  answer = '';
  location = '';

  private constructor(call: ClientCall, binding: CallBinding) {
    this.call = call;
    this.binding = binding;
    binding.attach(call, (e) => this.events.push(e));
  }

  /** Binds a socket, POSTs the offer to `callsUrl` (asserting 201) and starts ICE with the answer. */
  static async call(
    driver: UdpCallDriver,
    callsUrl: string,
    o: {
      seed: string;
      frames?: readonly Buffer[];
      /** Runs after the 201 and before ICE starts (an attack on the address the call is about to use). */
      beforeStart?: (binding: CallBinding) => Promise<void>;
    },
  ): Promise<UdpClient> {
    const binding = await driver.bind('127.0.0.1');
    const call = new ClientCall({ rng: seededRng(o.seed), agents, localAddress: binding.address, frames: o.frames, deliverAudio: true });
    const c = new UdpClient(call, binding);
    const res = await fetch(callsUrl, { method: 'POST', body: call.offer, headers: { 'content-type': 'application/sdp' } });
    assert.equal(res.status, 201, await res.clone().text());
    c.answer = await res.text();
    c.location = res.headers.get('location')!;
    await o.beforeStart?.(binding);
    call.acceptAnswer(c.answer, driver.now());
    binding.poke();
    return c;
  }

  get connected(): boolean {
    return this.call.state === 'connected';
  }

  /** The payloads heard so far, as text. */
  heard(): string[] {
    return this.events.flatMap((e) => (e.type === 'audio' ? [e.payload.toString()] : []));
  }

  heardBye(): boolean {
    return this.events.some((e) => e.type === 'rtcp' && e.packets.some((p) => p.type === 'bye'));
  }

  close(now: number): void {
    this.call.close(now);
    this.binding.poke();
    this.binding.close();
  }
}
