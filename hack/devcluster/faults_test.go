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

package devcluster_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kube-apiserver and etcd restart on the same address, certificates and data: the same client
// works again afterwards and sees what was written before.
func TestControlPlaneRestarts(t *testing.T) {
	ctx := t.Context()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survives-restarts", Namespace: "default"}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	quick := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 3*time.Second) }
	read := func() error {
		c, cancel := quick()
		defer cancel()
		return k8s.Get(c, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{})
	}

	if err := cluster.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := read(); err == nil {
		t.Fatal("read through a stopped kube-apiserver")
	}
	if err := cluster.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatalf("reading after kube-apiserver restarted: %v", err)
	}

	if err := cluster.StopEtcd(); err != nil {
		t.Fatal(err)
	}
	c, cancel := quick()
	err := k8s.Create(c, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "written-without-etcd", Namespace: "default"}})
	cancel()
	if err == nil {
		t.Fatal("a write succeeded with etcd stopped")
	}
	if err := cluster.StartEtcd(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for err := read(); err != nil; err = read() {
		if time.Now().After(deadline) {
			t.Fatalf("reading after etcd restarted: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
