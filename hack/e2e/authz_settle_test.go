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

package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// addWebhookOrControllers wires the webhook and the controllers on one cache, or the
// controllers alone.
func (e *authzEnv) addWebhookOrControllers(mgr manager.Manager, webhook bool) error {
	if webhook {
		return e.addWebhook(mgr, true)
	}
	return controllers.SetupWithManager(mgr, e.opts)
}

// waitSettled waits until the controllers have written what the user's current state asks
// for: the user's status (observedGeneration, each binding's access in every namespace) and
// every binding's (observedGeneration, the user as its one subject, every namespace bound).
func (e *authzEnv) waitSettled(t testing.TB, user string, bindings []string, namespaces int) {
	t.Helper()
	ctx := context.Background()
	NewWithT(t).Eventually(func(g Gomega) {
		var u scimv1.ScimUser
		g.Expect(e.k8s.Get(ctx, client.ObjectKey{Name: user}, &u)).To(Succeed())
		g.Expect(u.Status.ObservedGeneration).To(Equal(u.Generation), "ScimUser status.observedGeneration")
		g.Expect(u.Status.Access).To(HaveLen(len(bindings)), "ScimUser status.access")
		for _, a := range u.Status.Access {
			g.Expect(a.Namespaces).To(HaveLen(namespaces), "ScimUser status.access of %s", a.Binding)
		}
		for _, name := range bindings {
			var sgb scimv1.ScimGroupBinding
			g.Expect(e.k8s.Get(ctx, client.ObjectKey{Name: name}, &sgb)).To(Succeed())
			g.Expect(sgb.Status.ObservedGeneration).To(Equal(sgb.Generation), name)
			g.Expect(sgb.Status.Subjects).To(BeEquivalentTo(1), name)
			g.Expect(sgb.Status.NamespaceCount).To(BeEquivalentTo(namespaces), name)
		}
	}, 3*time.Minute, 20*time.Millisecond).Should(Succeed())
}

// deactivationSeen records when an event handler on the manager's cache, the one the webhook
// decides from, first got a deactivated ScimUser after an op's start.
type deactivationSeen struct {
	mu    sync.Mutex
	start time.Time
	seen  time.Duration
	done  chan struct{} // closed once seen is set
}

func (d *deactivationSeen) register(mgr manager.Manager) error {
	inf, err := mgr.GetCache().GetInformer(context.Background(), &scimv1.ScimUser{})
	if err != nil {
		return err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		if u, ok := obj.(*scimv1.ScimUser); ok && !u.Spec.IsActive() {
			d.observe()
		}
	}})
	return err
}

func (d *deactivationSeen) reset(start time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.start, d.seen, d.done = start, 0, make(chan struct{})
}

func (d *deactivationSeen) observe() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done != nil && d.seen == 0 {
		d.seen = time.Since(d.start)
		close(d.done)
	}
}

// at waits for the deactivation to be seen and returns when it was, from the op's start.
func (d *deactivationSeen) at(ctx context.Context) (time.Duration, error) {
	d.mu.Lock()
	done := d.done
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return 0, errors.New("the cache never delivered the deactivation")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen, nil
}
