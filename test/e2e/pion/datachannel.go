// Data channels for test/e2e/pion-datachannel.test.ts (flag -datachannel): what an OpenAI
// Realtime client does — `chat` (reliable, ordered) created before the offer — plus an
// unordered channel `loose`. Once both are open, each sends text and binary messages of every
// size in -dc-sizes; Parley's echo handler returns each on the channel it came from, and every
// echo is compared byte for byte (and for its type: text stays text, RFC 8831 §6.6), in order on
// the ordered channel. Then `chat` is closed (a stream reset, RFC 8831 §6.7) and its close
// must complete, while `loose` must still echo a message. All of it runs while main.go's audio
// loop sends and counts echoed Opus frames.
//
// The channels are detached (SettingEngine.DetachDataChannels, set in main.go): Pion v3's
// OnMessage reads into a 65 535-byte buffer and closes the channel on a larger message
// (datachannel.go dataChannelBufferSize), although it sends up to 65 536 bytes; reading the
// detached channel with our own buffer receives what Pion's SCTP reassembles.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/webrtc/v3"
)

// readBufferSize is above any size the test sends (Parley's a=max-message-size is 256 KiB).
const readBufferSize = 256*1024 + 1

// channelResult is what one channel saw, in the JSON line's "dataChannels".
type channelResult struct {
	ID        int   `json:"id"`
	Ordered   bool  `json:"ordered"`
	Sent      int   `json:"sent"`
	Got       int   `json:"got"`
	Exact     bool  `json:"exact"`
	Sizes     []int `json:"sizes"`
	OpenMs    int64 `json:"openMs"`
	Closed    bool  `json:"closed,omitempty"`
	AfterEcho bool  `json:"afterCloseEcho,omitempty"`
	// The channel Parley opens (handler parley-channel): its label, first message and whether
	// Parley's close reached us.
	Label          string `json:"label,omitempty"`
	Hello          string `json:"hello,omitempty"`
	ClosedByParley bool   `json:"closedByParley,omitempty"`
}

type dcMessage struct {
	text bool
	data []byte
}

// dcChannel wraps one Pion channel with a queue of what came back.
type dcChannel struct {
	dc     *webrtc.DataChannel
	raw    datachannel.ReadWriteCloser
	open   chan struct{}
	closed chan struct{}
	mu     sync.Mutex
	got    []dcMessage
	more   chan struct{}
}

func newDcChannel(pc *webrtc.PeerConnection, label string, ordered bool) (*dcChannel, error) {
	dc, err := pc.CreateDataChannel(label, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return nil, fmt.Errorf("create data channel %s: %w", label, err)
	}
	return wrapDcChannel(dc), nil
}

// wrapDcChannel detaches dc once it opens and queues what it receives.
func wrapDcChannel(dc *webrtc.DataChannel) *dcChannel {
	c := &dcChannel{dc: dc, open: make(chan struct{}), closed: make(chan struct{}), more: make(chan struct{}, 1)}
	var openOnce, closeOnce sync.Once
	dc.OnOpen(func() {
		raw, err := dc.Detach()
		if err != nil {
			return // never opens: runDataChannels reports the state
		}
		c.raw = raw
		openOnce.Do(func() { close(c.open) })
		go c.readLoop(func() { closeOnce.Do(func() { close(c.closed) }) })
	})
	return c
}

// readLoop queues every message until the channel ends (io.EOF once our close is answered).
func (c *dcChannel) readLoop(ended func()) {
	defer ended()
	buf := make([]byte, readBufferSize)
	for {
		n, text, err := c.raw.ReadDataChannel(buf)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.got = append(c.got, dcMessage{text: text, data: append([]byte(nil), buf[:n]...)})
		c.mu.Unlock()
		select {
		case c.more <- struct{}{}:
		default:
		}
	}
}

// waitFor returns the first n messages received, or what came before the deadline.
func (c *dcChannel) waitFor(n int, deadline time.Time) []dcMessage {
	for {
		c.mu.Lock()
		got := append([]dcMessage(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		select {
		case <-c.more:
		case <-time.After(time.Until(deadline)):
		}
	}
}

// dcSession holds the channels created before the offer, and the one Parley opens (if any).
type dcSession struct {
	events, loose *dcChannel
	fromParley    chan *dcChannel
}

func setupDataChannels(pc *webrtc.PeerConnection) (*dcSession, error) {
	events, err := newDcChannel(pc, "chat", true)
	if err != nil {
		return nil, err
	}
	loose, err := newDcChannel(pc, "loose", false)
	if err != nil {
		return nil, err
	}
	s := &dcSession{events: events, loose: loose, fromParley: make(chan *dcChannel, 1)}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		select {
		case s.fromParley <- wrapDcChannel(dc):
		default: // only the first channel Parley opens is checked
		}
	})
	return s, nil
}

// parleyOpened is the exchange on the channel Parley opens (test/e2e/parley-channel-handler.ts):
// its first message is "hello", every message comes back byte-exact, and "close" makes Parley
// close it (a stream reset from Parley's side) — our read loop must see it end.
func parleyOpened(s *dcSession, sizes []int) (*channelResult, error) {
	var c *dcChannel
	select {
	case c = <-s.fromParley:
	case <-time.After(10 * time.Second):
		return nil, errors.New("no channel from Parley in 10 s")
	}
	select {
	case <-c.open:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("Parley's channel %s did not open in 10 s", c.dc.Label())
	}
	hello := c.waitFor(1, time.Now().Add(10*time.Second))
	if len(hello) != 1 {
		return nil, errors.New("no hello on Parley's channel in 10 s")
	}
	c.mu.Lock()
	c.got = c.got[1:]
	c.mu.Unlock()
	r, err := exchange(c, makeMessages(sizes), 15*time.Second)
	r.Label, r.Hello = c.dc.Label(), string(hello[0].data)
	if err != nil {
		return &r, err
	}
	if _, err := c.raw.WriteDataChannel([]byte("close"), true); err != nil {
		return &r, fmt.Errorf("ask Parley to close: %w", err)
	}
	select {
	case <-c.closed:
		r.ClosedByParley = true
	case <-time.After(10 * time.Second):
	}
	return &r, nil
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// makeMessages: for each size a text message (one letter repeated) then a binary one (a byte
// pattern that differs per size), so a swapped or truncated echo cannot compare equal.
func makeMessages(sizes []int) []dcMessage {
	var out []dcMessage
	for i, n := range sizes {
		out = append(out, dcMessage{text: true, data: bytes.Repeat([]byte{byte('a' + i%26)}, n)})
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(k*31 + i)
		}
		out = append(out, dcMessage{data: b})
	}
	return out
}

func sameMessage(a, b dcMessage) bool { return a.text == b.text && bytes.Equal(a.data, b.data) }

// exchange sends every message on c and checks the echoes; ordered channels must keep order.
func exchange(c *dcChannel, sent []dcMessage, timeout time.Duration) (channelResult, error) {
	res := channelResult{Ordered: c.dc.Ordered(), Sent: len(sent)}
	if id := c.dc.ID(); id != nil {
		res.ID = int(*id)
	}
	for _, m := range sent {
		if _, err := c.raw.WriteDataChannel(m.data, m.text); err != nil {
			return res, fmt.Errorf("%s: send %d bytes: %w", c.dc.Label(), len(m.data), err)
		}
	}
	got := c.waitFor(len(sent), time.Now().Add(timeout))
	res.Got = len(got)
	for _, m := range got {
		res.Sizes = append(res.Sizes, len(m.data))
	}
	res.Exact = len(got) == len(sent)
	for i, m := range sent {
		if !res.Exact {
			break
		}
		if res.Ordered {
			res.Exact = sameMessage(got[i], m)
			continue
		}
		found := false
		for _, g := range got {
			found = found || sameMessage(g, m)
		}
		res.Exact = found
	}
	return res, nil
}

// runDataChannels is the whole exchange; it returns the per-label results. With parleyChannel
// the channel Parley opens is checked too, under the label "parley".
func runDataChannels(s *dcSession, sizes []int, parleyChannel bool) (map[string]*channelResult, error) {
	start := time.Now()
	results := map[string]*channelResult{}
	for _, c := range []*dcChannel{s.events, s.loose} {
		select {
		case <-c.open:
		case <-time.After(10*time.Second - time.Since(start)):
			return results, fmt.Errorf("%s did not open in 10 s (state %s)", c.dc.Label(), c.dc.ReadyState())
		}
	}
	openMs := time.Since(start).Milliseconds()
	sent := makeMessages(sizes)
	for _, c := range []*dcChannel{s.events, s.loose} {
		r, err := exchange(c, sent, 15*time.Second)
		r.OpenMs = openMs
		results[c.dc.Label()] = &r
		if err != nil {
			return results, err
		}
	}
	if parleyChannel {
		r, err := parleyOpened(s, sizes)
		if r != nil {
			results["parley"] = r
		}
		if err != nil {
			return results, err
		}
	}
	if err := s.events.raw.Close(); err != nil {
		return results, fmt.Errorf("close chat: %w", err)
	}
	select {
	case <-s.events.closed:
		results["chat"].Closed = true
	case <-time.After(5 * time.Second):
		return results, errors.New("chat: close did not complete in 5 s")
	}
	// The other channel still works after one closed.
	before := len(s.loose.waitFor(0, time.Now()))
	probe := dcMessage{text: true, data: []byte("still here")}
	if _, err := s.loose.raw.WriteDataChannel(probe.data, true); err != nil {
		return results, fmt.Errorf("loose after close: %w", err)
	}
	got := s.loose.waitFor(before+1, time.Now().Add(5*time.Second))
	results["loose"].AfterEcho = len(got) > before && sameMessage(got[before], probe)
	return results, nil
}
