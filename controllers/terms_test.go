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
	"time"
)

// Controllers run in terms, one per lease: each term builds its controllers afresh on the shared
// cache (a controller-runtime controller cannot be started twice), and a stopped term reconciles
// nothing any more.
func TestControllersRunInTerms(t *testing.T) {
	const partition = "terms"
	runTerm := startTermsManager(t, partition, Options{BindableRoles: []RoleName{{"ClusterRole", readerRole}}})

	ns := newNamespace(t, "terms-a", nil)
	group := newGroup(t, partition, "terms-readers")
	user := newUser(t, partition, "terry@example.com", group.Name)
	newBinding(t, partition, "terms-read", group, ns.Name)

	stop := runTerm()
	eventually(t, "access granted in the first term", expectAllowed("terry@example.com", "get", "configmaps", ns.Name, true))
	stop()

	setActive(t, user, false)
	consistently(t, "access kept while no term runs", 2*time.Second, expectAllowed("terry@example.com", "get", "configmaps", ns.Name, true))

	stop = runTerm()
	eventually(t, "access revoked in the second term", expectAllowed("terry@example.com", "get", "configmaps", ns.Name, false))
	stop()
}

// startTermsManager starts a manager of the partition whose controllers do not run until
// runTerm starts a term; the stop it returns ends the term and waits for it.
func startTermsManager(t *testing.T, partition string, opts Options) (runTerm func() (stop func())) {
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := newPartitionManager(ctx, testCfg, partition, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctrls, err := New(mgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-mgrDone; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return func() (stop func()) {
		termCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- ctrls.Run(termCtx) }()
		return func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("term: %v", err)
				}
			case <-time.After(waitTimeout):
				t.Fatal("the term did not stop")
			}
		}
	}
}
