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
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiters holds one token bucket per bearer-token name.
type rateLimiters struct {
	limit rate.Limit
	burst int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newRateLimiters(perSecond float64, burst int) *rateLimiters {
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(perSecond)))
	}
	return &rateLimiters{limit: rate.Limit(perSecond), burst: burst, limiters: map[string]*rate.Limiter{}}
}

// allow reports whether the token may make a request now and, if not, how long to wait.
func (r *rateLimiters) allow(token string) (bool, time.Duration) {
	if r.limit <= 0 {
		return true, 0
	}
	r.mu.Lock()
	l, ok := r.limiters[token]
	if !ok {
		l = rate.NewLimiter(r.limit, r.burst)
		r.limiters[token] = l
	}
	r.mu.Unlock()
	now := time.Now()
	res := l.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay == 0 {
		return true, 0
	}
	// Refused requests do not consume tokens.
	res.CancelAt(now)
	return false, delay
}
