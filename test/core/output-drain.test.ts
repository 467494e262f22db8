// drain() and pollOutput() (src/core/output.ts), the one way shells take a sans-IO machine's
// output: transmits before events, a listener that makes the machine queue more is drained in
// the same pass, and the deadline comes last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drain, pollOutput } from '../../src/core/output.ts';
import type { SansIo } from '../../src/core/output.ts';

class Toy implements SansIo<string, string> {
  readonly transmits: string[] = [];
  readonly events: string[] = [];
  deadline: number | undefined = 40;
  pollTransmit(): string | undefined {
    return this.transmits.shift();
  }
  pollEvent(): string | undefined {
    return this.events.shift();
  }
  pollTimeout(): number | undefined {
    return this.deadline;
  }
}

test('drain: every transmit, then every event, until both are empty; returns the deadline', () => {
  const m = new Toy();
  m.transmits.push('a', 'b');
  m.events.push('closed');
  const seen: string[] = [];
  const at = drain(
    m,
    (t) => seen.push(`tx:${t}`),
    (e) => {
      seen.push(`ev:${e}`);
      // A listener that acts on the machine (e.g. closes it): its output goes out in this pass.
      m.transmits.push('bye');
      m.deadline = undefined;
    },
  );
  assert.deepEqual(seen, ['tx:a', 'tx:b', 'ev:closed', 'tx:bye']);
  assert.equal(at, undefined);
  assert.equal(
    drain(
      m,
      () => assert.fail(),
      () => assert.fail(),
    ),
    undefined,
    'nothing left',
  );
});

test('pollOutput: transmit, then event, then the timeout once both queues are empty', () => {
  const m = new Toy();
  m.transmits.push('x');
  m.events.push('e');
  assert.deepEqual(pollOutput(m), { type: 'transmit', transmit: 'x' });
  assert.deepEqual(pollOutput(m), { type: 'event', event: 'e' });
  assert.deepEqual(pollOutput(m), { type: 'timeout', at: 40 });
});
