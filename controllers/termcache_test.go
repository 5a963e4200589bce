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

package controllers

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// countingInformer counts the handlers registered on it and not removed.
type countingInformer struct {
	cache.Informer // nil: only the handler methods are called
	handlers       map[toolscache.ResourceEventHandlerRegistration]bool
}

// handle is a registration; only HasSynced is called.
type handle struct {
	toolscache.ResourceEventHandlerRegistration
	n int
}

func (h *handle) HasSynced() bool { return true }

func (i *countingInformer) add() (toolscache.ResourceEventHandlerRegistration, error) {
	h := &handle{n: len(i.handlers)}
	i.handlers[h] = true
	return h, nil
}

func (i *countingInformer) AddEventHandler(toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.add()
}

func (i *countingInformer) AddEventHandlerWithOptions(toolscache.ResourceEventHandler, toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.add()
}

func (i *countingInformer) RemoveEventHandler(h toolscache.ResourceEventHandlerRegistration) error {
	delete(i.handlers, h)
	return nil
}

// sharedCache hands out one countingInformer for every kind.
type sharedCache struct {
	cache.Cache
	informer *countingInformer
}

func (c *sharedCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return c.informer, nil
}

// The shared informers outlive every term, so a term must take the handlers it added with it.
func TestTermCacheRemovesItsHandlers(t *testing.T) {
	shared := &sharedCache{informer: &countingInformer{handlers: map[toolscache.ResourceEventHandlerRegistration]bool{}}}
	// A handler of something that is not a term, e.g. the SCIM server's, must stay.
	if _, err := shared.informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{}); err != nil {
		t.Fatal(err)
	}
	for term := range 3 {
		tc := newTermCache(shared)
		i, err := tc.GetInformer(context.Background(), &corev1.Namespace{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := i.AddEventHandlerWithOptions(toolscache.ResourceEventHandlerFuncs{}, toolscache.HandlerOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := i.AddEventHandler(toolscache.ResourceEventHandlerFuncs{}); err != nil {
			t.Fatal(err)
		}
		if got := len(shared.informer.handlers); got != 4 {
			t.Fatalf("term %d: %d handlers while running, want 4", term, got)
		}
		if err := tc.removeHandlers(); err != nil {
			t.Fatal(err)
		}
		if got := len(shared.informer.handlers); got != 1 {
			t.Fatalf("term %d left %d handlers behind, want only the one that is not a term's", term, got-1)
		}
	}
}
