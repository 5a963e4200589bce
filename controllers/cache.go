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
