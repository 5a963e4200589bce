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
	"fmt"
	"reflect"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// readFaults fails the List calls of chosen list types on the clients it wraps: the reads the
// API server never refuses on its own (they are served from the manager's cache), so that
// tests can reach the states a broken read leads to.
type readFaults struct {
	mu      sync.Mutex
	failing map[reflect.Type]bool
}

// fail makes Lists of list's type fail until clear is called or the test ends.
func (f *readFaults) fail(t *testing.T, list client.ObjectList) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing == nil {
		f.failing = map[reflect.Type]bool{}
	}
	f.failing[reflect.TypeOf(list)] = true
	t.Cleanup(f.clear)
}

// clear ends every fault.
func (f *readFaults) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = nil
}

func (f *readFaults) err(list client.ObjectList) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing[reflect.TypeOf(list)] {
		return fmt.Errorf("injected fault: listing %T", list)
	}
	return nil
}

func (f *readFaults) wrap(c client.Client) client.Client { return faultyClient{Client: c, faults: f} }

type faultyClient struct {
	client.Client
	faults *readFaults
}

func (c faultyClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.faults.err(list); err != nil {
		return err
	}
	return c.Client.List(ctx, list, opts...)
}
