/*
Copyright 2026 The kubescim Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package scimserver

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const wrongToken = "wrong-token-0000000000000000000000000000"

// TestFailedAuthenticationsLimitedPerAddress: after a burst of 3 failures (refilling once in
// 1,000 s) an address gets 429 with Retry-After, even with the right token, so guessing stops.
// Successful requests do not count, and other addresses are not affected.
func TestFailedAuthenticationsLimitedPerAddress(t *testing.T) {
	get := func(base, token string, headers ...string) response {
		t.Helper()
		return callURL(t, base, token, http.MethodGet, "/scim/v2/ServiceProviderConfig", nil, headers...)
	}
	t.Run("by connection address; forwarded headers ignored", func(t *testing.T) {
		_, base := newTestServer(t, Options{FailedAuthRate: 0.001, FailedAuthBurst: 3})
		for range 10 {
			get(base, testToken).expect(t, http.StatusOK) // successes cost nothing
		}
		throttledBefore := counterValue(t, authFailuresTotal.WithLabelValues("throttled"))
		for i := range 3 {
			// A client cannot escape its bucket by claiming another address.
			get(base, wrongToken, fmt.Sprintf("X-Forwarded-For: 198.51.100.%d", i)).expectError(t, http.StatusUnauthorized, "")
		}
		for _, token := range []string{wrongToken, testToken} {
			r := get(base, token, "X-Forwarded-For: 198.51.100.99")
			r.expectError(t, http.StatusTooManyRequests, "")
			if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}
		if got := counterValue(t, authFailuresTotal.WithLabelValues("throttled")) - throttledBefore; got != 2 {
			t.Errorf("kubescim_scim_auth_failures_total{result=throttled} grew by %v, want 2", got)
		}
	})
	t.Run("by X-Forwarded-For behind a trusted proxy", func(t *testing.T) {
		_, base := newTestServer(t, Options{FailedAuthRate: 0.001, FailedAuthBurst: 3, TrustForwardedHeaders: true})
		// The proxy appends the address it saw; what the client wrote before it is ignored.
		attacker := "X-Forwarded-For: 192.0.2.1, 203.0.113.7"
		for range 3 {
			get(base, wrongToken, attacker).expectError(t, http.StatusUnauthorized, "")
		}
		get(base, testToken, attacker).expectError(t, http.StatusTooManyRequests, "")
		get(base, wrongToken, "X-Forwarded-For: 203.0.113.7, 192.0.2.1").expectError(t, http.StatusUnauthorized, "")
		get(base, testToken, "X-Forwarded-For: 203.0.113.8").expect(t, http.StatusOK)
		// IPv6 clients count by /64.
		for i := range 3 {
			get(base, wrongToken, fmt.Sprintf("X-Forwarded-For: 2001:db8:1:2::%x", i+1)).expectError(t, http.StatusUnauthorized, "")
		}
		get(base, testToken, "X-Forwarded-For: 2001:db8:1:2:ffff::1").expectError(t, http.StatusTooManyRequests, "")
		get(base, testToken, "X-Forwarded-For: 2001:db8:1:3::1").expect(t, http.StatusOK)
	})
}

// TestFailedAuthLimiterForgetsLeastRecentAddresses: memory stays bounded however many addresses
// fail; the one seen least recently goes first.
func TestFailedAuthLimiterForgetsLeastRecentAddresses(t *testing.T) {
	now := time.Now()
	l := newFailedAuthLimiter(0.001, 1, 3)
	for _, addr := range []string{"a", "b", "c"} {
		if ok, _ := l.attempt(addr, now); !ok {
			t.Fatalf("first attempt of %s refused", addr)
		}
	}
	if ok, wait := l.attempt("a", now); ok || wait <= 0 {
		t.Fatalf("second attempt of a: ok %v, wait %v", ok, wait)
	}
	for i := range 100 {
		l.attempt(fmt.Sprint("other-", i), now)
	}
	if got := l.tracked(); got != 3 {
		t.Errorf("%d addresses tracked, want at most 3", got)
	}
	// A refund after success restores the attempt; refill follows the rate.
	l.succeeded("other-99", now)
	if ok, _ := l.attempt("other-99", now); !ok {
		t.Error("a refunded attempt is still charged")
	}
	if ok, _ := l.attempt("other-98", now.Add(1000*time.Second)); !ok {
		t.Error("the bucket did not refill")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
