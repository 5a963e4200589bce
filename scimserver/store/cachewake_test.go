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

package store

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheWakesWakeWaiters: a waiter is woken by an event, not by its fallback poll (made an
// hour long here, so only a wake-up can end the wait before the test's deadline).
func TestCacheWakesWakeWaiters(t *testing.T) {
	w := newCacheWakes()
	w.fallback, w.registered = time.Hour, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var inCache atomic.Bool
	checks := make(chan struct{}, 100)
	result := make(chan bool, 1)
	go func() {
		result <- w.waitUntil(ctx, time.Hour, func() bool {
			checks <- struct{}{}
			return inCache.Load()
		})
	}()
	<-checks // the first check found nothing: the waiter now waits
	inCache.Store(true)
	w.wake()
	if !<-result {
		t.Fatal("the waiter was not woken by the cache event")
	}
}

// TestCacheWakesPollWithoutHandlers: without registered handlers, waiters fall back to polling.
func TestCacheWakesPollWithoutHandlers(t *testing.T) {
	w := newCacheWakes()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	if !w.waitUntil(ctx, time.Hour, func() bool { n++; return n == 3 }) {
		t.Fatal("polling did not find the object")
	}
	if !w.waitUntil(ctx, 0, func() bool { return true }) {
		t.Fatal("an object already in the cache was not found")
	}
	if w.waitUntil(ctx, 50*time.Millisecond, func() bool { return false }) {
		t.Fatal("a wait that timed out reported success")
	}
}
