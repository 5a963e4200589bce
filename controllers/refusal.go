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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// maxEventNote keeps Event notes under the API server's 1 kB limit.
const maxEventNote = 1000

// refusal says why a binding grants nothing this pass.
type refusal struct {
	// condition is set False beside Ready (RoleBindable, GroupFound); empty for none.
	condition string
	reason    string
	message   string
	// event is the note of the Warning Event sent when the binding enters this refusal; the
	// message when empty.
	event string
	// err is what the pass returns once the grants are gone: nil waits for a watch event, a
	// reconcile.TerminalError for a spec change, anything else is retried with backoff.
	err error
}

// evaluationFailed refuses a binding whose members or namespaces cannot be read: without them
// nobody can tell who should have access where.
func evaluationFailed(err error) refusal {
	return refusal{reason: scimv1.EvaluationFailedReason, err: err,
		message: "cannot tell who should have access where, so nothing is granted: " + err.Error()}
}

// refuse is the one way out of a pass for a binding that cannot be put into effect. It reports
// why (Ready=False, the refusal's own condition, an Event on the transition), deletes every
// RoleBinding and ClusterRoleBinding of the binding and clears what the status says is bound.
// refusedAs is Ready's False reason before the pass. An object created earlier in the same pass
// may not be in the cache yet; its create event brings the binding back here.
func (r *ScimGroupBindingReconciler) refuse(ctx context.Context, b *scimv1.ScimGroupBinding, refusedAs string, why refusal) error {
	st := &b.Status
	if why.condition != "" {
		setCondition(&st.Conditions, b.Generation, why.condition, false, why.reason, why.message)
	}
	setCondition(&st.Conditions, b.Generation, scimv1.ReadyCondition, false, why.reason, why.message)
	if refusedAs != why.reason {
		note := why.event
		if note == "" {
			note = why.message
		}
		r.recorder.Eventf(b, nil, corev1.EventTypeWarning, "Refused", "Bind", "%s", truncate(note, maxEventNote))
	}
	err := r.converge(ctx, b, nil, nil)
	st.Subjects = 0
	if err != nil {
		// Grants are left: retry, even when the refusal itself would wait for a spec change.
		err = fmt.Errorf("removing the grants of refused ScimGroupBinding %s: %w", b.Name, err)
		if why.err != nil && !errors.Is(why.err, reconcile.TerminalError(nil)) {
			return errors.Join(why.err, err)
		}
		return err
	}
	return why.err
}

// escalationRefusedMessage is the fixed part of the API server's escalation refusal
// (k8s.io/kubernetes pkg/registry/rbac/validation ConfirmNoEscalation), which has no status
// cause of its own.
const escalationRefusedMessage = "is attempting to grant RBAC permissions not currently held"

// refusedByAPIServer reports whether any of the joined write errors is the API server's
// escalation check refusing kubescim the role: its identity may not bind the role and does not
// hold every permission in it. The check also guards writes that only remove subjects, so a
// binding refused this way cannot even be kept up to date. Other Forbidden answers (a namespace
// being terminated, a quota) concern one namespace and are ordinary write failures.
func refusedByAPIServer(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return slices.ContainsFunc(joined.Unwrap(), refusedByAPIServer)
	}
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), escalationRefusedMessage)
}

// namespacesOf returns the namespaces among units, dropping "" (cluster scope).
func namespacesOf(units []string) []string {
	var out []string
	for _, u := range units {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}
