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
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// CacheByObject limits the manager's caches of RoleBindings, ClusterRoleBindings and
// ServiceAccounts to the ones kubescim manages, so memory does not grow with the rest of the
// cluster. The controllers only ever read their own objects from the cache (a same-named
// object they do not own yet is read live). ServiceAccounts are watched in opts'
// ServiceAccountNamespace only, so that a Role there is all the RBAC they need.
func CacheByObject(opts Options) map[client.Object]cache.ByObject {
	opts = opts.withDefaults()
	managed := labels.SelectorFromSet(labels.Set{scimv1.ManagedByLabel: scimv1.ManagedByValue})
	return map[client.Object]cache.ByObject{
		&rbacv1.RoleBinding{}:        {Label: managed},
		&rbacv1.ClusterRoleBinding{}: {Label: managed},
		&corev1.ServiceAccount{}: {Label: managed, Namespaces: map[string]cache.Config{
			opts.ServiceAccountNamespace: {},
		}},
	}
}

// SlimUser is the cache transform of ScimUsers in a process that runs the controllers without
// the SCIM server. It keeps what the controllers and the authorization webhook read (userName,
// externalId, displayName, the emails' values and primary flags, active, memberOf, labels,
// annotations but kubectl's last-applied copy, and status) and drops managedFields and every
// other attribute: names, addresses, phone numbers and the extensions are most of an
// enterprise user's size. Safe by construction: the controllers' identity may not write a
// ScimUser's spec (RBAC: get, list, watch), so a write from a slim copy would be refused
// rather than lose data.
func SlimUser(obj any) (any, error) {
	u, ok := obj.(*scimv1.ScimUser)
	if !ok {
		return obj, nil
	}
	u.ManagedFields = nil
	delete(u.Annotations, corev1.LastAppliedConfigAnnotation)
	var emails []scimv1.MultiValuedAttribute
	for _, e := range u.Spec.Emails {
		emails = append(emails, scimv1.MultiValuedAttribute{Value: e.Value, Primary: e.Primary})
	}
	u.Spec = scimv1.ScimUserSpec{UserName: u.Spec.UserName, ExternalID: u.Spec.ExternalID, DisplayName: u.Spec.DisplayName,
		Active: u.Spec.Active, Emails: emails, MemberOf: u.Spec.MemberOf}
	return u, nil
}
