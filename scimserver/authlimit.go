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
	"container/list"
	"sync"
	"time"
)

// maxTrackedAddresses bounds the memory of the failed-authentication limiter: beyond it the
// address seen least recently is forgotten.
const maxTrackedAddresses = 10_000

// failedAuthLimiter holds one token bucket of failed authentications per client address, in
// least-recently-used order so that its size stays bounded. Every attempt is charged before the
// token is looked at, so concurrent guesses cannot overrun the burst, and refunded when the
// token was valid: only failures count. (golang.org/x/time/rate cannot refund a reservation
// once its time has passed, hence this small bucket.)
type failedAuthLimiter struct {
	perSecond float64
	burst     float64
	max       int

	mu     sync.Mutex
	byAddr map[string]*list.Element // of *addressBucket
	lru    *list.List               // front: used most recently
}

type addressBucket struct {
	addr   string
	tokens float64
	last   time.Time
}

func newFailedAuthLimiter(perSecond float64, burst, max int) *failedAuthLimiter {
	return &failedAuthLimiter{perSecond: perSecond, burst: float64(burst), max: max,
		byAddr: map[string]*list.Element{}, lru: list.New()}
}

// attempt charges one authentication attempt to addr. When its bucket is empty it returns
// false and how long until addr may try again.
func (l *failedAuthLimiter) attempt(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(addr, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// succeeded refunds the attempt charged to addr.
func (l *failedAuthLimiter) succeeded(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(addr, now)
	b.tokens = min(l.burst, b.tokens+1)
}

// bucket returns addr's bucket, refilled up to now; l.mu is held.
func (l *failedAuthLimiter) bucket(addr string, now time.Time) *addressBucket {
	if e, ok := l.byAddr[addr]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*addressBucket)
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = min(l.burst, b.tokens+elapsed*l.perSecond)
			b.last = now
		}
		return b
	}
	if l.lru.Len() >= l.max {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.byAddr, oldest.Value.(*addressBucket).addr)
	}
	b := &addressBucket{addr: addr, tokens: l.burst, last: now}
	l.byAddr[addr] = l.lru.PushFront(b)
	return b
}

// tracked returns how many addresses are remembered.
func (l *failedAuthLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
