// Signaling for the Pion interop client (main.go): the offer POST and the hang-up DELETE, as
// `parley call` does them (src/client/signaling.ts).
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// postOffer sends the offer as `parley call` does (src/client/signaling.ts) and returns the
// answer and the absolute call URL from Location.
func postOffer(o options, offer string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, strings.NewReader(offer))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Accept", "application/sdp")
	if o.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+o.bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("POST %s: %w", o.url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("POST %s: reading the answer: %w", o.url, err)
	}
	if res.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("POST %s → %d: %.300s", o.url, res.StatusCode, body)
	}
	location := ""
	if loc := res.Header.Get("Location"); loc != "" {
		base, _ := url.Parse(o.url)
		if ref, err := url.Parse(loc); err == nil {
			location = base.ResolveReference(ref).String()
		}
	}
	return string(body), location, nil
}

// deleteCall hangs up (WHIP-style DELETE on Location); returns the status, 0 if the request failed.
func deleteCall(o options, location string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return 0
	}
	if o.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+o.bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
