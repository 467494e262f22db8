// Load mode of the Pion client (-calls N): N calls of run() (main.go) in one process, started
// -rate per second and overlapping (each sends audio for -seconds once connected, then hangs up),
// for bench/setup.ts's `parley load`-style row: the same Go client against Parley through the
// relay and against bench/pion-echo, in the same run. Each call is a PeerConnection of its own
// (own API, own UDP socket), as N separate clients would be. Prints one JSON line with every
// call's POST → connected time (sorted), their p50/p95/max, and the failures by message; exit 0
// when every call connected and got its echo back, else 1.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/pion/dtls/v2"
)

type loadResult struct {
	Calls     int            `json:"calls"`
	Connected int            `json:"connected"`
	Failed    int            `json:"failed"`
	Errors    map[string]int `json:"errors,omitempty"`
	// POST → connected of every connected call, ascending.
	SetupMs         []float64 `json:"setupMs"`
	SetupP50        float64   `json:"setupP50"`
	SetupP95        float64   `json:"setupP95"`
	SetupMax        float64   `json:"setupMax"`
	PacketsSent     int64     `json:"packetsSent"`
	PacketsReceived int64     `json:"packetsReceived"`
	// From the first call's start to the last call's connection.
	WallMs float64 `json:"wallMs"`
}

// runLoad runs `calls` calls started `rate` per second; returns the exit status.
func runLoad(o options, profiles []dtls.SRTPProtectionProfile, calls int, rate float64) int {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		out     = loadResult{Calls: calls, Errors: map[string]int{}}
		lastAt  time.Time
		started = time.Now()
		gap     = time.Duration(float64(time.Second) / rate)
	)
	for i := 0; i < calls; i++ {
		// Paced from the start time, not from the previous call: a slow start does not stretch the ramp.
		time.Sleep(time.Until(started.Add(time.Duration(i) * gap)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			err := run(o, profiles, &r)
			mu.Lock()
			defer mu.Unlock()
			if r.Connected {
				out.Connected++
				out.SetupMs = append(out.SetupMs, r.ConnectMs)
				if at := time.Now(); at.After(lastAt) {
					lastAt = at
				}
			}
			out.PacketsSent += r.PacketsSent
			out.PacketsReceived += r.PacketsReceived
			if err != nil {
				out.Failed++
				msg := err.Error()
				if len(msg) > 120 {
					msg = msg[:120]
				}
				out.Errors[msg]++
			}
		}()
	}
	wg.Wait()
	sort.Float64s(out.SetupMs)
	out.SetupP50 = quantile(out.SetupMs, 0.5)
	out.SetupP95 = quantile(out.SetupMs, 0.95)
	if n := len(out.SetupMs); n > 0 {
		out.SetupMax = out.SetupMs[n-1]
		out.WallMs = float64(lastAt.Sub(started).Microseconds()) / 1000
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	if out.Failed > 0 {
		fmt.Fprintf(os.Stderr, "pion-client: %d of %d calls failed\n", out.Failed, calls)
		return 1
	}
	return 0
}

// quantile of ascending samples (nearest rank); NaN-free: 0 when there are none.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}
