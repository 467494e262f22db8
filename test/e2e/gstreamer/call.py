#!/usr/bin/env python3
"""GStreamer webrtcbin (Debian's gstreamer1.0-plugins-bad, ICE by libnice, DTLS by OpenSSL with
GStreamer's own RSA certificate) calls Parley: a 440 Hz Opus tone goes out, the offer is POSTed
once ICE gathering completes, and what comes back is decoded and measured. Prints one JSON line:
{connected, dtlsRole, setupMs (from the pipeline's start), postToConnectedMs (from the offer POST),
samples, toneRatio, offToneRatio, location, hangupStatus, error}.

--offer-setup active rewrites a=setup in the offer Parley sees, so Parley answers passive and is
the DTLS server (webrtcbin follows the answer and becomes the DTLS client); actpass leaves it,
and Parley answers active (the DTLS client)."""
import argparse
import json
import re
import sys
import threading
import time
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402
import numpy  # noqa: E402

TONE_HZ = 440.0
RATE = 48000


def goertzel_ratio(samples, freq):
    """Share of the signal's energy at `freq` (a Goertzel bin over the whole window)."""
    x = samples.astype(numpy.float64)
    if len(x) == 0 or not numpy.any(x):
        return 0.0
    n = len(x)
    t = numpy.arange(n) / RATE
    re_ = numpy.dot(x, numpy.cos(2 * numpy.pi * freq * t))
    im_ = numpy.dot(x, numpy.sin(2 * numpy.pi * freq * t))
    tone_power = (re_ * re_ + im_ * im_) * 2 / n
    return float(tone_power / numpy.dot(x, x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--url', required=True)
    ap.add_argument('--offer-setup', choices=['actpass', 'active'], default='actpass')
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--timeout', type=float, default=40.0)
    args = ap.parse_args()

    Gst.init(None)
    result = {'connected': False}
    loop = GLib.MainLoop()
    pipe = Gst.parse_launch(
        'audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audioconvert ! audioresample ! '
        'audio/x-raw,rate=48000,channels=1 ! opusenc ! rtpopuspay pt=111 ! '
        'application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! '
        'webrtcbin name=w bundle-policy=max-bundle'
    )
    w = pipe.get_by_name('w')
    received = []
    first_audio = {}
    posted_at = {}
    started = time.monotonic()

    def fail(why):
        result['error'] = why
        loop.quit()

    def on_sample(sink):
        sample = sink.emit('pull-sample')
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            received.append(numpy.frombuffer(bytes(info.data), dtype=numpy.int16))
            buf.unmap(info)
            first_audio.setdefault('t', time.monotonic())
        return Gst.FlowReturn.OK

    def on_pad_added(_w, pad):
        if pad.direction != Gst.PadDirection.SRC:
            return
        out = Gst.parse_bin_from_description(
            'rtpopusdepay ! opusdec ! audioconvert ! audioresample ! '
            'audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=sink emit-signals=true sync=false',
            True,
        )
        pipe.add(out)
        out.sync_state_with_parent()
        out.get_by_name('sink').connect('new-sample', on_sample)
        pad.link(out.get_static_pad('sink'))

    def post_offer(sdp_text):
        body = sdp_text
        if args.offer_setup == 'active':
            body = re.sub(r'a=setup:actpass', 'a=setup:active', body)
        req = urllib.request.Request(args.url, data=body.encode(), method='POST', headers={'Content-Type': 'application/sdp'})
        posted_at['t'] = time.monotonic()
        with urllib.request.urlopen(req, timeout=10) as resp:
            result['location'] = resp.headers.get('Location')
            return resp.read().decode()

    def on_gathering(_w, _pspec):
        if w.get_property('ice-gathering-state') != GstWebRTC.WebRTCICEGatheringState.COMPLETE or 'posted' in result:
            return
        result['posted'] = True
        offer = w.get_property('local-description').sdp.as_text()
        try:
            answer = post_offer(offer)
        except Exception as e:  # noqa: BLE001
            GLib.idle_add(fail, f'POST failed: {e}')
            return
        m = re.search(r'a=setup:(\w+)', answer)
        # Our DTLS role is the opposite of Parley's.
        result['dtlsRole'] = 'server' if m and m.group(1) == 'active' else 'client'
        ok, sdp = GstSdp.SDPMessage.new_from_text(answer)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        w.emit('set-remote-description', desc, Gst.Promise.new())

    def on_offer(promise, _data):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value('offer')
        w.emit('set-local-description', offer, Gst.Promise.new())

    def on_negotiation_needed(_w):
        w.emit('create-offer', None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_connection_state(_w, _pspec):
        state = w.get_property('connection-state')
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            result['connected'] = True
            result['setupMs'] = round((time.monotonic() - started) * 1000, 1)
            if 't' in posted_at:
                result['postToConnectedMs'] = round((time.monotonic() - posted_at['t']) * 1000, 1)
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(fail, 'connection failed')

    def tick():
        if time.monotonic() - started > args.timeout:
            fail('timed out')
            return False
        if 't' in first_audio and time.monotonic() - first_audio['t'] >= args.seconds:
            loop.quit()
            return False
        return True

    def on_bus(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            fail(f'{err.message} ({dbg})')

    w.connect('on-negotiation-needed', on_negotiation_needed)
    w.connect('notify::ice-gathering-state', on_gathering)
    w.connect('notify::connection-state', on_connection_state)
    w.connect('pad-added', on_pad_added)
    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_bus)
    GLib.timeout_add(50, tick)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()

    pipe.set_state(Gst.State.NULL)
    if received:
        samples = numpy.concatenate(received)
        # Skip the first 0.5 s (jitter buffer and decoder start-up), then measure.
        tail = samples[RATE // 2 :]
        result['samples'] = int(len(samples))
        result['toneRatio'] = round(goertzel_ratio(tail, TONE_HZ), 3)
        result['offToneRatio'] = round(goertzel_ratio(tail, 1000.0), 3)
    if result.get('location'):
        try:
            loc = result['location']
            base = re.match(r'(https?://[^/]+)', args.url).group(1)
            req = urllib.request.Request(base + loc if loc.startswith('/') else loc, method='DELETE')
            with urllib.request.urlopen(req, timeout=10) as resp:
                result['hangupStatus'] = resp.status
        except Exception as e:  # noqa: BLE001
            result['hangupError'] = str(e)
    result.pop('posted', None)
    print(json.dumps(result))
    sys.stdout.flush()
    return 0 if result['connected'] and 'error' not in result else 1


if __name__ == '__main__':
    sys.exit(main())
