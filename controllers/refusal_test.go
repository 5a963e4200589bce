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
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The errors are built as the API server builds them; the forbidden row of
// TestNotReadyBindingKeepsNoAccessThatShouldGo meets the real escalation refusal.
func TestRefusedByAPIServer(t *testing.T) {
	rb := schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}
	escalation := apierrors.NewForbidden(rb, "kubescim-x", errors.New(
		`user "kubescim" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+"\n"+
			`{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`))
	terminating := apierrors.NewForbidden(rb, "kubescim-x", errors.New("unable to create new content in namespace b because it is being terminated"))
	terminating.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause, Message: "b"}}
	quota := apierrors.NewForbidden(rb, "kubescim-x", errors.New("exceeded quota: q, requested: count/rolebindings.rbac.authorization.k8s.io=1"))
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"escalation", fmt.Errorf("patching RoleBinding a/kubescim-x: %w", escalation), true},
		{"escalation among unit errors", errors.Join(fmt.Errorf("creating RoleBinding a/kubescim-x: %w", quota),
			errors.Join(fmt.Errorf("patching RoleBinding b/kubescim-x: %w", escalation), errors.New("deleting"))), true},
		{"namespace terminating", fmt.Errorf("creating RoleBinding b/kubescim-x: %w", terminating), false},
		{"quota", errors.Join(fmt.Errorf("creating RoleBinding b/kubescim-x: %w", quota)), false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: rbacv1.GroupName, Kind: "RoleBinding"}, "kubescim-x", nil), false},
	}
	for _, tt := range tests {
		if got := refusedByAPIServer(tt.err); got != tt.want {
			t.Errorf("%s: refusedByAPIServer = %t, want %t", tt.name, got, tt.want)
		}
	}
}
