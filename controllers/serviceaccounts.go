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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Per-user ServiceAccounts (--service-accounts). Each active user with a valid subject gets a
// ServiceAccount named after its ScimUser object in the ServiceAccount namespace, bound next to
// the User subject. Tokens are short-lived and requested on demand, e.g. by an admin or a
// self-service tool: `kubectl create token <scimuser-name> -n kubescim-users --duration 1h`.
// Deactivating or deleting the user deletes the ServiceAccount, which invalidates every token
// ever issued for it (bound tokens are tied to the ServiceAccount's UID); reactivation creates a
// new ServiceAccount with a new UID, so old tokens stay invalid.

// desiredServiceAccount is the ServiceAccount kubescim keeps for u.
func desiredServiceAccount(u *scimv1.ScimUser, namespace string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: serviceAccountName(u), Namespace: namespace,
		Labels: map[string]string{scimv1.ManagedByLabel: scimv1.ManagedByValue, scimv1.UserLabel: u.Name},
		Annotations: map[string]string{
			scimv1.UserIDAnnotation:   string(u.UID),
			scimv1.UserNameAnnotation: u.Spec.UserName,
		},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: scimv1.GroupVersion.String(), Kind: "ScimUser", Name: u.Name, UID: u.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}},
	}}
}

// ensureServiceAccount creates u's ServiceAccount, or brings it in line by server-side apply
// (field owner kubescim) when its labels, annotations or owner differ; labels and annotations
// others add stay. One left over from an earlier user of the same object name (different UID) is
// replaced, never inherited. A new ServiceAccount is created with Create, never applied: the cache
// holds only labelled ServiceAccounts, and an apply would silently take over one that someone
// else made under that name. Such a one is left alone and reported.
func (r *ScimUserReconciler) ensureServiceAccount(ctx context.Context, u *scimv1.ScimUser) error {
	desired := desiredServiceAccount(u, r.opts.ServiceAccountNamespace)
	key := client.ObjectKeyFromObject(desired)
	var sa corev1.ServiceAccount
	err := r.reader.Get(ctx, key, &sa)
	switch {
	case apierrors.IsNotFound(err):
		ctrl.LoggerFrom(ctx).V(1).Info("Creating ServiceAccount", "ServiceAccount", klog.KObj(desired))
		err := r.writer.Create(ctx, desired, fieldOwner)
		if !apierrors.IsAlreadyExists(err) {
			return wrapServiceAccountWrite("creating", key, err)
		}
		// Not yet in the cache, or someone else's: read it from the API server.
		if err := r.live.Get(ctx, key, &sa); err != nil {
			return wrapServiceAccountWrite("reading", key, err)
		}
	case err != nil:
		return fmt.Errorf("getting ServiceAccount %s: %w", key, err)
	}
	if sa.Labels[scimv1.ManagedByLabel] != scimv1.ManagedByValue {
		return fmt.Errorf("ServiceAccount %s exists and is not managed by kubescim; it is left alone", key)
	}
	if sa.Annotations[scimv1.UserIDAnnotation] != string(u.UID) {
		if err := r.deleteServiceAccount(ctx, &sa); err != nil {
			return err
		}
		return fmt.Errorf("replacing ServiceAccount %s left by an earlier user", key)
	}
	if saInSync(&sa, desired) {
		return nil
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Applying ServiceAccount", "ServiceAccount", klog.KObj(desired))
	return wrapServiceAccountWrite("applying", key, r.writer.Apply(ctx, serviceAccountApplyConfiguration(desired), fieldOwner, client.ForceOwnership))
}

// serviceAccountApplyConfiguration is the server-side apply request for a desired ServiceAccount.
func serviceAccountApplyConfiguration(sa *corev1.ServiceAccount) *coreac.ServiceAccountApplyConfiguration {
	return coreac.ServiceAccount(sa.Name, sa.Namespace).WithLabels(sa.Labels).WithAnnotations(sa.Annotations).
		WithOwnerReferences(ownerReferenceApplyConfigurations(sa.OwnerReferences)...)
}

func wrapServiceAccountWrite(verb string, key client.ObjectKey, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s ServiceAccount %s: %w", verb, key, err)
}

func saInSync(sa, desired *corev1.ServiceAccount) bool {
	for k, v := range desired.Labels {
		if sa.Labels[k] != v {
			return false
		}
	}
	for k, v := range desired.Annotations {
		if sa.Annotations[k] != v {
			return false
		}
	}
	return hasOwnerRef(sa, desired.OwnerReferences[0])
}

// removeServiceAccount deletes the ServiceAccount of the ScimUser named name, if kubescim made it.
func (r *ScimUserReconciler) removeServiceAccount(ctx context.Context, name string) error {
	var sa corev1.ServiceAccount
	err := r.reader.Get(ctx, client.ObjectKey{Namespace: r.opts.ServiceAccountNamespace, Name: name}, &sa)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting ServiceAccount %s/%s: %w", r.opts.ServiceAccountNamespace, name, err)
	}
	if sa.Labels[scimv1.UserLabel] != name || sa.Labels[scimv1.ManagedByLabel] != scimv1.ManagedByValue {
		return nil // not ours
	}
	return r.deleteServiceAccount(ctx, &sa)
}

func (r *ScimUserReconciler) deleteServiceAccount(ctx context.Context, sa *corev1.ServiceAccount) error {
	ctrl.LoggerFrom(ctx).V(1).Info("Deleting ServiceAccount", "ServiceAccount", klog.KObj(sa))
	uid := sa.UID
	if err := r.writer.Delete(ctx, sa, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting ServiceAccount %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	return nil
}
