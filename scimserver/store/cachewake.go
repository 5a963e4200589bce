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
	"sync"
	"time"
)

// A write waits until its own cache holds what it wrote (read-your-writes). Polling the cache
// every few milliseconds made every create cost a poll interval on top of the write; instead the
// informers wake the waiters on every ScimUser or ScimGroup event. The informer updates its
// store before it notifies handlers, so a woken waiter finds the object.

// cachePollFallback is how often a waiter re-checks the cache without an event: a safety net,
// and the only mechanism if the event handlers could not be registered.
const (
	cachePollFallback     = 100 * time.Millisecond
	cachePollWithoutWakes = 10 * time.Millisecond
)

// cacheWakes broadcasts "the cache changed" to every waiter.
type cacheWakes struct {
	mu sync.Mutex
	ch chan struct{}
	// fallback is the poll interval once the handlers are registered.
	fallback   time.Duration
	registered bool
}

func newCacheWakes() *cacheWakes {
	return &cacheWakes{ch: make(chan struct{}), fallback: cachePollFallback}
}

// next returns a channel that is closed at the next cache event. Take it before checking the
// cache, so that an event between the check and the wait is not missed.
func (w *cacheWakes) next() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

// pollInterval is how long a waiter waits at most between two checks of the cache.
func (w *cacheWakes) pollInterval() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.registered {
		return w.fallback
	}
	return cachePollWithoutWakes
}

func (w *cacheWakes) wake() {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

// handlersRegistered records that the informers' handlers wake waiters (Store.FollowCacheEvents):
// polling becomes a slow safety net.
func (w *cacheWakes) handlersRegistered() {
	w.mu.Lock()
	w.registered = true
	w.mu.Unlock()
}

// waitUntil checks done after every cache event (and at least every pollInterval) until it
// reports true, ctx ends or timeout passes. It reports whether done did.
func (w *cacheWakes) waitUntil(ctx context.Context, timeout time.Duration, done func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		woken := w.next()
		if done() {
			return true
		}
		poll := time.NewTimer(w.pollInterval())
		select {
		case <-woken:
		case <-poll.C:
		case <-deadline.C:
			poll.Stop()
			return false
		case <-ctx.Done():
			poll.Stop()
			return false
		}
		poll.Stop()
	}
}
