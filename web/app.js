// Parley demo page: one WebRTC voice call to the transceiver's signaling API, plain JS, no
// build step. Non-trickle: the offer is sent once ICE gathering completes (or after a short
// timeout), the answer carries the relay candidates. State is mirrored in `window.parley`
// for automated browser tests.
/* global window, document, navigator, RTCPeerConnection, URLSearchParams */

const GATHER_TIMEOUT_MS = 1500;
const STATS_INTERVAL_MS = 500;
const CALLS_PATH = '/v1/realtime/calls';

const EMPTY_STATS = Object.freeze({
  rttMs: null, packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, levelOut: 0, levelIn: 0,
});

const $ = (id) => document.getElementById(id);
const el = {
  call: $('call'), hangup: $('hangup'), state: $('state'), ice: $('ice'), callId: $('callid'),
  relay: $('relay'), rtt: $('rtt'), packets: $('packets'), levelIn: $('level-in'), levelOut: $('level-out'),
  error: $('error'), handler: $('handler'), remote: $('remote'),
};

const handler = new URLSearchParams(window.location.search).get('handler');
if (handler) el.handler.textContent = handler;

/** Everything a test (or a curious human in the console) may want to read. */
const parley = {
  state: 'idle', // idle | calling | new | connecting | connected | disconnected | failed | closed | ended | error
  iceState: null,
  callId: null,
  location: null,
  remoteAddress: null,
  error: null,
  handler,
  stats: { ...EMPTY_STATS },
  call,
  hangup,
};
window.parley = parley;

let pc = null;
let mic = null;
let statsTimer = null;
// Bumped by every call() and hangup(): a call() that finds it changed after an await was
// hung up meanwhile and must stop.
let attempt = 0;
let inCall = false;

function setState(state) {
  parley.state = state;
  el.state.textContent = state;
  el.state.dataset.state = state;
}

function showError(err) {
  parley.error = String(err && err.message ? err.message : err);
  el.error.textContent = parley.error;
  el.error.hidden = false;
  console.error('parley:', err);
}

/** Forgets everything about the previous call, on screen and in `window.parley`. */
function resetCall() {
  Object.assign(parley, { error: null, callId: null, location: null, remoteAddress: null, iceState: null, stats: { ...EMPTY_STATS } });
  el.error.hidden = true;
  for (const e of [el.callId, el.relay, el.rtt, el.packets]) e.textContent = '—';
  el.ice.textContent = '';
}

function waitForGathering(peer) {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      peer.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => { if (peer.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    peer.addEventListener('icegatheringstatechange', onChange);
  });
}

async function call() {
  if (inCall) return;
  inCall = true;
  const mine = ++attempt;
  resetCall();
  el.call.disabled = true;
  el.hangup.disabled = false;
  setState('calling');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    if (mine !== attempt) { for (const t of stream.getTracks()) t.stop(); return; }
    mic = stream;
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const peer = pc;
    peer.addEventListener('connectionstatechange', () => {
      if (pc === peer) setState(peer.connectionState);
      if (peer.connectionState === 'failed') showError('connection failed (ICE or DTLS)');
    });
    peer.addEventListener('iceconnectionstatechange', () => {
      parley.iceState = peer.iceConnectionState;
      el.ice.textContent = `ICE ${peer.iceConnectionState}`;
    });
    peer.addEventListener('track', (e) => { el.remote.srcObject = e.streams[0] || new window.MediaStream([e.track]); });
    for (const track of mic.getAudioTracks()) peer.addTrack(track, mic);

    await peer.setLocalDescription(await peer.createOffer());
    await waitForGathering(peer);
    if (mine !== attempt) return; // hung up while gathering

    const url = CALLS_PATH + (handler ? `?handler=${encodeURIComponent(handler)}` : '');
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: peer.localDescription.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`signaling answered ${res.status}: ${body.slice(0, 200)}`);
    parley.location = res.headers.get('Location');
    parley.callId = parley.location ? parley.location.split('/').pop() : null;
    el.callId.textContent = parley.callId || '—';
    if (mine !== attempt) { await deleteCall(); return; }
    await peer.setRemoteDescription({ type: 'answer', sdp: body });
    statsTimer = setInterval(pollStats, STATS_INTERVAL_MS);
  } catch (err) {
    if (mine !== attempt) return;
    showError(err);
    await hangup();
    setState('error');
  }
}

async function deleteCall() {
  const location = parley.location;
  parley.location = null;
  if (!location) return;
  try {
    await fetch(location, { method: 'DELETE', keepalive: true });
  } catch (err) {
    console.warn('parley: hang-up request failed', err);
  }
}

async function hangup() {
  attempt++;
  inCall = false;
  clearInterval(statsTimer);
  statsTimer = null;
  const peer = pc;
  pc = null;
  if (peer) peer.close();
  if (mic) for (const t of mic.getTracks()) t.stop();
  mic = null;
  el.remote.srcObject = null;
  el.levelIn.value = 0;
  el.levelOut.value = 0;
  el.call.disabled = false;
  el.hangup.disabled = true;
  if (parley.state !== 'error') setState(peer ? 'ended' : parley.state);
  await deleteCall();
}

function formatAddress(candidate) {
  const ip = candidate.address || candidate.ip;
  if (!ip) return null;
  return ip.includes(':') ? `[${ip}]:${candidate.port}` : `${ip}:${candidate.port}`;
}

async function pollStats() {
  const peer = pc;
  if (!peer) return;
  let report;
  try {
    report = await peer.getStats();
  } catch {
    return; // closed meanwhile
  }
  if (pc !== peer) return;
  const s = { ...parley.stats };
  let pair = null;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId) || pair;
  });
  report.forEach((r) => {
    // Firefox marks the pair itself; Chromium names it from the transport (above).
    if (!pair && r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded'))) pair = r;
    if (r.type === 'outbound-rtp' && r.kind === 'audio') { s.packetsSent = r.packetsSent; s.bytesSent = r.bytesSent; }
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      s.packetsReceived = r.packetsReceived;
      s.bytesReceived = r.bytesReceived;
      s.levelIn = r.audioLevel || 0;
    }
    if (r.type === 'media-source' && r.kind === 'audio') s.levelOut = r.audioLevel || 0;
  });
  if (pair) {
    s.rttMs = typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
    const remote = report.get(pair.remoteCandidateId);
    parley.remoteAddress = remote ? formatAddress(remote) : null;
  }
  parley.stats = s;
  el.rtt.textContent = s.rttMs === null ? '—' : `${s.rttMs} ms`;
  el.packets.textContent = `${s.packetsSent} sent · ${s.packetsReceived} received`;
  el.relay.textContent = parley.remoteAddress || '—';
  // audioLevel is linear 0..1; a square root makes speech visible on the meter.
  el.levelOut.value = Math.sqrt(s.levelOut);
  el.levelIn.value = Math.sqrt(s.levelIn);
}

el.call.addEventListener('click', () => { call(); });
el.hangup.addEventListener('click', () => { hangup(); });
window.addEventListener('pagehide', () => { if (parley.location) deleteCall(); });
