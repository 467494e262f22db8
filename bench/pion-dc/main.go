// pion-dc: the reference that `npm run bench:datachannel` measures Parley's data channels against
// (issue #14). Two Pion webrtc v3 peers in this one process — an offerer and an answerer, each on
// its own UDP socket on 127.0.0.1 — with DTLS and SCTP as between any two WebRTC stacks. For each
// -sizes value it opens a fresh pair of peers, one ordered reliable channel, and sends binary
// messages of that size from the offerer for -seconds, keeping at most 1 MiB buffered (refilled
// below 512 KiB, Pion's own flow-control pattern); the answerer reads them on the detached
// channel (Pion's OnMessage closes a channel on a message over 65 535 bytes). Prints one JSON line
// per size: messages and bytes received in the window, its length, and the CPU time
// (getrusage(RUSAGE_SELF), user + system, both peers) the process used during it.
// Set up as Pion at its best: udp4 on loopback only, no mDNS, no media or interceptors. Not
// product code. Built by test/e2e/go-build.ts from Debian's golang-github-pion-webrtc.v3-dev.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
)

const (
	maxBuffered = 1 << 20
	lowWater    = 512 << 10
	readBuffer  = 256*1024 + 1
)

type result struct {
	Size     int     `json:"size"`
	Messages int64   `json:"messages"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	CPUMs    float64 `json:"cpuMs"`
}

func main() {
	sizesFlag := flag.String("sizes", "1024,16384,65536", "message sizes in bytes, comma-separated")
	seconds := flag.Float64("seconds", 2, "seconds of sending per size")
	flag.Parse()
	for _, s := range strings.Split(*sizesFlag, ",") {
		size, err := strconv.Atoi(s)
		if err != nil || size <= 0 || size > 256*1024 {
			fail(fmt.Errorf("bad size %q", s))
		}
		r, err := measure(size, time.Duration(*seconds*float64(time.Second)))
		if err != nil {
			fail(err)
		}
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pion-dc:", err)
	os.Exit(1)
}

func newAPI() *webrtc.API {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.DetachDataChannels()
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

func cpuMs() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// connect exchanges offer and answer (gathering complete: no trickle) between two peers.
func connect(offerer, answerer *webrtc.PeerConnection) error {
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		return err
	}
	done := webrtc.GatheringCompletePromise(offerer)
	if err = offerer.SetLocalDescription(offer); err != nil {
		return err
	}
	<-done
	if err = answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		return err
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		return err
	}
	done = webrtc.GatheringCompletePromise(answerer)
	if err = answerer.SetLocalDescription(answer); err != nil {
		return err
	}
	<-done
	return offerer.SetRemoteDescription(*answerer.LocalDescription())
}

func measure(size int, window time.Duration) (result, error) {
	api := newAPI()
	offerer, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return result{}, err
	}
	defer offerer.Close()
	answerer, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return result{}, err
	}
	defer answerer.Close()

	var messages, bytes atomic.Int64
	answerer.OnDataChannel(func(d *webrtc.DataChannel) {
		d.OnOpen(func() {
			raw, err := d.Detach()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, readBuffer)
				for {
					n, _, err := raw.ReadDataChannel(buf)
					if err != nil {
						return
					}
					messages.Add(1)
					bytes.Add(int64(n))
				}
			}()
		})
	})
	ordered := true
	dc, err := offerer.CreateDataChannel("bench", &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return result{}, err
	}
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	low := make(chan struct{}, 1)
	dc.SetBufferedAmountLowThreshold(lowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case low <- struct{}{}:
		default:
		}
	})
	if err = connect(offerer, answerer); err != nil {
		return result{}, err
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		return result{}, errors.New("the channel did not open in 10 s")
	}
	raw, err := dc.Detach()
	if err != nil {
		return result{}, err
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 0x62
	}

	cpu0 := cpuMs()
	start := time.Now()
	m0, b0 := messages.Load(), bytes.Load()
	deadline := start.Add(window)
	for time.Now().Before(deadline) {
		if dc.BufferedAmount()+uint64(size) > maxBuffered {
			select {
			case <-low:
			case <-time.After(time.Until(deadline)):
			}
			continue
		}
		if _, err = raw.WriteDataChannel(payload, false); err != nil {
			return result{}, err
		}
	}
	m1, b1 := messages.Load(), bytes.Load()
	secs := time.Since(start).Seconds()
	return result{Size: size, Messages: m1 - m0, Bytes: b1 - b0, Seconds: secs, CPUMs: cpuMs() - cpu0}, nil
}
