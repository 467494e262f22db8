// The page side of the browser data-channel interop tests (browser-datachannel-chromium.test.ts,
// browser-datachannel-firefox.test.ts): an async function, as source text, that a browser runs
// with { url, offerSetup }. It makes one call the way an OpenAI Realtime client does — microphone
// track and `chat` before the offer — plus an unordered channel `loose`, POSTs the offer
// (a=setup:actpass rewritten to offerSetup), sends text and binary messages of 1 B – 256 KiB on
// each channel once open, and compares the echoes byte-exact (in order on the ordered channel).
// With sustainMs (the tests pass DC_SUSTAIN_MS, default 3000; checked by checkSustained in
// ./datachannel-checks.ts) it then sends 256 KiB messages on `chat` at full speed for that long (Parley echoes them
// toward the page at its pacer's rate, dropping what its send buffer cannot take) and reports the
// echo's rate and the page's inbound audio over that window and over a quiet one before it. Then it closes `chat`, checks `loose` still echoes, and reads inbound audio
// packets before and after. It returns a JSON-able result, or { error } if the POST failed.

/** Runs in the page: one call with two channels, every size both ways; returns what it saw. */
export const DATACHANNEL_PAGE_SCRIPT = `async ({ url, offerSetup, sustainMs = 0 }) => {
  const sizes = [1, 1024, 16384, 65536, 262144];
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
  // A channel Parley opens (the parley-channel handler): its messages are queued from the moment
  // it arrives, so none is lost before the exchange below reads them.
  const fromParley = { channel: null, inbox: [], wake: null };
  pc.ondatachannel = (e) => {
    fromParley.channel = e.channel;
    e.channel.binaryType = 'arraybuffer';
    e.channel.onmessage = (m) => { fromParley.inbox.push(m.data); if (fromParley.wake) fromParley.wake(); };
  };
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const events = pc.createDataChannel('chat');
  const loose = pc.createDataChannel('loose', { ordered: false });
  for (const ch of [events, loose]) ch.binaryType = 'arraybuffer';
  await pc.setLocalDescription(await pc.createOffer());
  const offer = pc.localDescription.sdp.replace(/a=setup:actpass/g, 'a=setup:' + offerSetup);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  if (res.status !== 201) return { error: 'POST ' + res.status + ' ' + await res.text() };
  const location = res.headers.get('location');
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  const opened = (ch) => new Promise((ok, no) => { if (ch.readyState === 'open') ok(); ch.onopen = () => ok(); setTimeout(() => no(new Error(ch.label + ' did not open')), 15000); });
  try {
    await Promise.all([opened(events), opened(loose)]);
  } catch (err) {
    let audio = 0; (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') audio = r.packetsReceived; });
    return { error: String(err), location, states: { connection: pc.connectionState, ice: pc.iceConnectionState, dtls: pc.sctp && pc.sctp.transport.state, sctp: pc.sctp && pc.sctp.state, chat: events.readyState, loose: loose.readyState, audio } };
  }
  const make = (n, i, text) => { if (text) return String.fromCharCode(97 + (i % 26)).repeat(n); const b = new Uint8Array(n); for (let k = 0; k < n; k++) b[k] = (k * 31 + i) & 255; return b.buffer; };
  const same = (a, b) => { if (typeof a === 'string' || typeof b === 'string') return a === b; const x = new Uint8Array(a), y = new Uint8Array(b); if (x.length !== y.length) return false; for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false; return true; };
  const result = { maxMessageSize: pc.sctp.maxMessageSize, channels: {} };
  for (const ch of [events, loose]) {
    const sent = [];
    sizes.forEach((n, i) => { sent.push(make(n, i, true)); sent.push(make(n, i, false)); });
    const got = [];
    const done = new Promise((ok) => { ch.onmessage = (e) => { got.push(e.data); if (got.length === sent.length) ok(); }; });
    for (const m of sent) ch.send(m);
    await Promise.race([done, new Promise((r) => setTimeout(r, 20000))]);
    const exact = ch.ordered ? got.length === sent.length && got.every((m, i) => same(m, sent[i])) : got.length === sent.length && sent.every((m) => got.some((g) => same(g, m)));
    result.channels[ch.label] = { id: ch.id, sent: sent.length, got: got.length, exact, sizes: got.map((m) => typeof m === 'string' ? m.length : m.byteLength) };
  }
  if (url.includes('handler=parley-channel')) {
    const until = Date.now() + 10000;
    while (!fromParley.channel && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const ch = fromParley.channel;
    if (!ch) result.parley = { error: 'no channel from Parley' };
    else {
      const next = async (ms) => { const end = Date.now() + ms; while (!fromParley.inbox.length && Date.now() < end) await new Promise((r) => { fromParley.wake = r; setTimeout(r, 100); }); return fromParley.inbox.shift(); };
      const hello = await next(10000);
      const sent = [];
      sizes.forEach((n, i) => { sent.push(make(n, i, true)); sent.push(make(n, i, false)); });
      for (const m of sent) ch.send(m);
      const got = [];
      for (let k = 0; k < sent.length; k++) { const m = await next(20000); if (m === undefined) break; got.push(m); }
      const closed = new Promise((ok) => { ch.onclose = () => ok(true); setTimeout(() => ok(false), 10000); });
      ch.send('close');
      result.parley = { label: ch.label, id: ch.id, ordered: ch.ordered, hello, sent: sent.length, got: got.length, exact: got.length === sent.length && got.every((m, i) => same(m, sent[i])), closedByParley: await closed, state: ch.readyState };
    }
  }
  const audio = async () => { let n = 0; (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r.packetsReceived; }); return n; };
  // Full speed for SUSTAIN_MS: 256 KiB messages on chat, up to 2 MiB buffered, all echoed by
  // Parley toward this page at its pacer's rate while the call's audio shares the socket; the
  // page's inbound audio over that window (received, lost, concealed) against a quiet window of
  // the same length right before it.
  const audioStats = async () => { let a; (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') a = { at: performance.now(), received: r.packetsReceived, lost: r.packetsLost, concealed: r.concealedSamples || 0, samples: r.totalSamplesReceived || 0 }; }); return a; };
  const delta = (a, b) => ({ ms: Math.round(b.at - a.at), received: b.received - a.received, lost: b.lost - a.lost, concealed: b.concealed - a.concealed, samples: b.samples - a.samples });
  if (sustainMs > 0) {
  const SUSTAIN_MS = sustainMs;
  const quiet0 = await audioStats();
  await new Promise((r) => setTimeout(r, SUSTAIN_MS));
  const busy0 = await audioStats();
  const big = new Uint8Array(262144);
  let echoedBytes = 0;
  let echoedMessages = 0;
  let sentMessages = 0;
  events.onmessage = (e) => { echoedBytes += typeof e.data === 'string' ? e.data.length : e.data.byteLength; echoedMessages++; };
  events.bufferedAmountLowThreshold = 1 << 20;
  const t0 = performance.now();
  while (performance.now() - t0 < SUSTAIN_MS) {
    while (events.bufferedAmount < 2 << 20) { events.send(big); sentMessages++; }
    await new Promise((r) => { events.onbufferedamountlow = r; setTimeout(r, 20); });
  }
  const busy1 = await audioStats();
  const echoedInWindow = echoedBytes;
  // The page's buffer drains (up to 2 MiB: at the ~1–2 MB/s a loaded box's browser sends, more
  // than a second; chat must be idle before its close can complete), then what was in flight lands
  // within a second; the echo handler drops what its call's send buffer cannot take
  // (handlers/echo.ts), so not every message comes back.
  for (const until = performance.now() + 10000; events.bufferedAmount > 0 && performance.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  result.sustained = { ms: Math.round(busy1.at - busy0.at), sentMessages, echoedMessages, echoedBytes, echoedMBps: echoedInWindow / 1e3 / (busy1.at - t0), quiet: delta(quiet0, busy0), busy: delta(busy0, busy1) };
  }
  result.audioBefore = await audio();
  events.close();
  await new Promise((r) => setTimeout(r, 1500));
  result.eventsState = events.readyState;
  result.looseState = loose.readyState;
  loose.send('still here');
  result.afterClose = await new Promise((ok) => { loose.onmessage = (e) => ok(e.data); setTimeout(() => ok(null), 5000); });
  result.audioAfter = await audio();
  result.location = location;
  pc.close();
  return result;
}`;
