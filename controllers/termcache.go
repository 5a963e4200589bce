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
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// termCache is the shared cache as one term of the controllers sees it. It remembers the event
// handlers the term's sources register, so that they can be removed when the term ends: an
// informer keeps a handler, and the goroutines that feed it, until it is removed, and the shared
// informers outlive every term.
type termCache struct {
	cache.Cache

	mu            sync.Mutex
	registrations []registration
}

type registration struct {
	informer cache.Informer
	handle   toolscache.ResourceEventHandlerRegistration
}

func newTermCache(shared cache.Cache) *termCache { return &termCache{Cache: shared} }

func (c *termCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	i, err := c.Cache.GetInformer(ctx, obj, opts...)
	if err != nil {
		return nil, err
	}
	return &termInformer{Informer: i, term: c}, nil
}

func (c *termCache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...cache.InformerGetOption) (cache.Informer, error) {
	i, err := c.Cache.GetInformerForKind(ctx, gvk, opts...)
	if err != nil {
		return nil, err
	}
	return &termInformer{Informer: i, term: c}, nil
}

func (c *termCache) remember(i cache.Informer, h toolscache.ResourceEventHandlerRegistration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.registrations = append(c.registrations, registration{informer: i, handle: h})
}

// removeHandlers detaches every handler the term registered.
func (c *termCache) removeHandlers() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, r := range c.registrations {
		if err := r.informer.RemoveEventHandler(r.handle); err != nil {
			errs = append(errs, fmt.Errorf("removing an event handler: %w", err))
		}
	}
	c.registrations = nil
	return errors.Join(errs...)
}

// termInformer records the handlers added through it on its termCache.
type termInformer struct {
	cache.Informer
	term *termCache
}

func (i *termInformer) AddEventHandler(h toolscache.ResourceEventHandler) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.record(i.Informer.AddEventHandler(h))
}

func (i *termInformer) AddEventHandlerWithResyncPeriod(h toolscache.ResourceEventHandler, resync time.Duration) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.record(i.Informer.AddEventHandlerWithResyncPeriod(h, resync))
}

func (i *termInformer) AddEventHandlerWithOptions(h toolscache.ResourceEventHandler, opts toolscache.HandlerOptions) (toolscache.ResourceEventHandlerRegistration, error) {
	return i.record(i.Informer.AddEventHandlerWithOptions(h, opts))
}

func (i *termInformer) record(h toolscache.ResourceEventHandlerRegistration, err error) (toolscache.ResourceEventHandlerRegistration, error) {
	if err == nil {
		i.term.remember(i.Informer, h)
	}
	return h, err
}
