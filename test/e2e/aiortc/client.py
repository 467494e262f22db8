"""aiortc (Debian's python3-aiortc) as a data-channel client, for test/e2e/aiortc-datachannel.test.ts.

It does what an OpenAI Realtime client does: an RTCPeerConnection with an audio track (a 440 Hz
tone, 20 ms frames) and an `chat` channel (reliable, ordered) created before the offer, plus
an unordered channel `loose`. It waits for ICE gathering to complete (aiortc has no trickle),
POSTs the offer to the transceiver as `parley call` does (application/sdp, optional Bearer), and
once both channels are open sends text and binary messages of every size in --sizes on each. The
echo handler returns every message on its channel; each echo is compared byte for byte and by type
(str stays str, RFC 8831 §6.6), in order on the ordered channel. Then it closes `chat` (a
stream reset, RFC 8831 §6.7) and waits for its "close" event, checks `loose` still echoes, counts
the echoed audio frames it decoded, DELETEs the call and prints one JSON line. Every wait is
bounded; on failure the line has "error" and the exit status is 1. With ?handler=parley-channel in
--url it also checks the channel Parley opens toward it (under "parley": hello, echoes, Parley's close).

--offer-setup active rewrites a=setup:actpass in the POSTed offer, so Parley answers passive and
aiortc (which takes its role from the answer) is the DTLS client.

--audio-only (bench/setup.ts) offers the audio track alone: no channels, no messages. The line
then has postToConnectedMs (from the offer POST to connectionState "connected") and the echoed
audio frames decoded in the --seconds after it.
"""

import argparse
import asyncio
import fractions
import json
import sys
import time
import urllib.request
from urllib.parse import urljoin

import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError


class ToneTrack(AudioStreamTrack):
    """AudioStreamTrack paces 20 ms frames of silence; this fills them with a 440 Hz tone."""

    def __init__(self):
        super().__init__()
        self._n = 0

    async def recv(self):
        frame = await super().recv()
        samples = frame.samples
        t = (numpy.arange(samples) + self._n) / frame.sample_rate
        self._n += samples
        tone = (numpy.sin(2 * numpy.pi * 440 * t) * 8000).astype(numpy.int16)
        frame.planes[0].update(tone.tobytes())
        frame.time_base = fractions.Fraction(1, frame.sample_rate)
        return frame


def count_audio_frames(pc, audio):
    """Counts every audio frame the peer's remote track delivers into audio["frames"]."""

    @pc.on("track")
    def on_track(track):
        async def consume():
            try:
                while True:
                    await track.recv()
                    audio["frames"] += 1
            except MediaStreamError:
                pass

        asyncio.ensure_future(consume())


def make_messages(sizes):
    out = []
    for i, n in enumerate(sizes):
        out.append(chr(97 + i % 26) * n)
        out.append(bytes((k * 31 + i) & 255 for k in range(n)))
    return out


def http(method, url, bearer, body=None):
    headers = {"Content-Type": "application/sdp", "Accept": "application/sdp"} if body else {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status, res.headers.get("Location"), res.read().decode()


async def wait(fut, seconds, what):
    try:
        return await asyncio.wait_for(fut, seconds)
    except asyncio.TimeoutError:
        raise RuntimeError(f"{what} did not happen in {seconds} s") from None


async def exchange(ch, queue, sent, ordered):
    for m in sent:
        ch.send(m)
    got = []
    deadline = time.monotonic() + 20
    while len(got) < len(sent) and time.monotonic() < deadline:
        try:
            got.append(await asyncio.wait_for(queue.get(), deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
    same = lambda a, b: type(a) is type(b) and a == b  # noqa: E731
    if ordered:
        exact = len(got) == len(sent) and all(same(g, s) for g, s in zip(got, sent))
    else:
        exact = len(got) == len(sent) and all(any(same(g, s) for g in got) for s in sent)
    return {"id": ch.id, "ordered": ch.ordered, "sent": len(sent), "got": len(got), "exact": exact, "sizes": [len(g) for g in got]}


async def parley_opened(from_parley, sent):
    """The channel Parley opens (test/e2e/parley-channel-handler.ts): "hello" first, every
    message back byte-exact, and "close" makes Parley close it (a stream reset from its side)."""
    ch, q, closed = await wait(from_parley, 10, "a channel from Parley")
    hello = await wait(q.get(), 10, "hello on Parley's channel")
    res = await exchange(ch, q, sent, ch.ordered)
    res["label"] = ch.label
    res["hello"] = hello
    ch.send("close")
    try:
        res["closedByParley"] = await asyncio.wait_for(closed, 10)
    except asyncio.TimeoutError:
        res["closedByParley"] = False
    return res


async def run_audio_only(o, r):
    """POST → connected for an audio-only call, then echoed frames for --seconds, then the hang-up."""
    loop = asyncio.get_running_loop()
    pc = RTCPeerConnection()
    try:
        pc.addTrack(ToneTrack())
        audio = {"frames": 0}
        connected = loop.create_future()

        @pc.on("connectionstatechange")
        def on_state():
            if pc.connectionState in ("connected", "failed") and not connected.done():
                connected.set_result(pc.connectionState)

        count_audio_frames(pc, audio)

        await pc.setLocalDescription(await pc.createOffer())  # returns once gathering is complete
        sdp = pc.localDescription.sdp
        if o.offer_setup == "active":
            sdp = sdp.replace("a=setup:actpass", "a=setup:active")
        posted = time.monotonic()
        status, location, answer = await loop.run_in_executor(None, http, "POST", o.url, o.bearer, sdp.encode())
        if status != 201:
            raise RuntimeError(f"POST → {status}: {answer[:300]}")
        r["location"] = urljoin(o.url, location) if location else None
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        if await wait(connected, 10, "connected") != "connected":
            raise RuntimeError("connection failed")
        r["connected"] = True
        r["postToConnectedMs"] = round((time.monotonic() - posted) * 1000, 1)
        r["dtlsRole"] = pc.getTransceivers()[0].sender.transport._role
        await asyncio.sleep(o.seconds)
        r["audioFrames"] = audio["frames"]
        if r["location"]:
            r["hangupStatus"] = (await loop.run_in_executor(None, http, "DELETE", r["location"], o.bearer))[0]
    finally:
        await pc.close()


async def run(o, r):
    loop = asyncio.get_running_loop()
    pc = RTCPeerConnection()
    try:
        pc.addTrack(ToneTrack())
        audio = {"frames": 0}

        count_audio_frames(pc, audio)

        channels = {}
        for label, ordered in (("chat", True), ("loose", False)):
            ch = pc.createDataChannel(label, ordered=ordered)
            q = asyncio.Queue()
            opened = loop.create_future()
            closed = loop.create_future()
            ch.on("message", q.put_nowait)
            ch.on("open", lambda f=opened: f.done() or f.set_result(True))
            ch.on("close", lambda f=closed: f.done() or f.set_result(True))
            channels[label] = (ch, q, opened, closed)

        # A channel Parley opens (handler parley-channel): queued from the moment it arrives.
        from_parley = loop.create_future()

        @pc.on("datachannel")
        def on_datachannel(ch):
            q = asyncio.Queue()
            closed = loop.create_future()
            ch.on("message", q.put_nowait)
            ch.on("close", lambda f=closed: f.done() or f.set_result(True))
            if not from_parley.done():
                from_parley.set_result((ch, q, closed))

        await pc.setLocalDescription(await pc.createOffer())  # returns once gathering is complete
        sdp = pc.localDescription.sdp
        if o.offer_setup == "active":
            sdp = sdp.replace("a=setup:actpass", "a=setup:active")
        status, location, answer = await loop.run_in_executor(None, http, "POST", o.url, o.bearer, sdp.encode())
        if status != 201:
            raise RuntimeError(f"POST → {status}: {answer[:300]}")
        r["location"] = urljoin(o.url, location) if location else None
        start = time.monotonic()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for label, (ch, _, opened, _) in channels.items():
            await wait(opened, 10, f"{label} open")
        r["connected"] = True
        r["openMs"] = round((time.monotonic() - start) * 1000)
        r["dtlsRole"] = pc.sctp.transport._role
        r["maxMessageSize"] = pc.sctp.getCapabilities().maxMessageSize
        # Echoed audio is flowing before the messages start, and must keep flowing through them.
        deadline = time.monotonic() + 5
        while audio["frames"] < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        frames_before = audio["frames"]

        sent = make_messages(o.sizes)
        r["dataChannels"] = {}
        for label, (ch, q, _, _) in channels.items():
            r["dataChannels"][label] = await exchange(ch, q, sent, ch.ordered)

        if "handler=parley-channel" in o.url:
            r["dataChannels"]["parley"] = await parley_opened(from_parley, sent)

        events, _, _, events_closed = channels["chat"]
        events.close()
        await wait(events_closed, 5, "chat close")
        r["dataChannels"]["chat"]["closed"] = events.readyState == "closed"
        loose, q, _, _ = channels["loose"]
        loose.send("still here")
        try:
            r["dataChannels"]["loose"]["afterCloseEcho"] = await asyncio.wait_for(q.get(), 5) == "still here"
        except asyncio.TimeoutError:
            r["dataChannels"]["loose"]["afterCloseEcho"] = False
        await asyncio.sleep(1.5)  # and after the close
        r["audioFramesBefore"] = frames_before
        r["audioFramesAfter"] = audio["frames"]
        if r["location"]:
            r["hangupStatus"] = (await loop.run_in_executor(None, http, "DELETE", r["location"], o.bearer))[0]
    finally:
        await pc.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--bearer", default="")
    p.add_argument("--offer-setup", choices=["actpass", "active"], default="actpass")
    p.add_argument("--sizes", default="1,1024,16384,65536", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--audio-only", action="store_true")
    p.add_argument("--seconds", type=float, default=1.0, help="with --audio-only: how long to count echoed frames once connected")
    o = p.parse_args()
    r = {"connected": False}
    code = 0
    try:
        asyncio.run(asyncio.wait_for((run_audio_only if o.audio_only else run)(o, r), 60))
    except Exception as err:  # noqa: BLE001 — any failure is reported in the JSON line
        r["error"] = f"{type(err).__name__}: {err}"
        code = 1
    print(json.dumps(r), flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
