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

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// Cache field indexes private to the controllers (the shared ones live in api/v1alpha1; the
// controllers also register v1alpha1.IndexBindingGroup, as the SCIM server never reads bindings).
const (
	// indexSubjectName indexes ScimUsers by their RBAC User subject name, so a subject removed
	// from a binding can be traced back to its user for the audit log.
	indexSubjectName = "kubescim.controllers.subjectName"
	// indexOwningBinding indexes kubescim-managed RoleBindings and ClusterRoleBindings by the
	// ScimGroupBinding they belong to (the BindingLabel value).
	indexOwningBinding = "kubescim.controllers.binding"
	// indexBindingByPattern holds every ScimGroupBinding that selects groups by groupPattern,
	// under patternBindings: any group may match them, so group events consult them all.
	indexBindingByPattern = "kubescim.controllers.bindingPattern"
	patternBindings       = "pattern"
)

// IndexSubjectName is the cache index of ScimUsers by RBAC User subject name (prefix included,
// the name nameSubject gives), for the other parts of the controllers component: the
// authorization webhook (controllers/authz) looks users up by it. New registers it.
const IndexSubjectName = indexSubjectName

func setupControllerIndexes(ctx context.Context, indexer client.FieldIndexer, opts Options) error {
	byBinding := func(o client.Object) []string {
		if o.GetLabels()[scimv1.ManagedByLabel] != scimv1.ManagedByValue {
			return nil
		}
		return nonEmpty(o.GetLabels()[scimv1.BindingLabel])
	}
	indexes := []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&scimv1.ScimUser{}, indexSubjectName, func(o client.Object) []string {
			return nonEmpty(nameSubject(o.(*scimv1.ScimUser), opts).name)
		}},
		{&scimv1.ScimGroupBinding{}, scimv1.IndexBindingGroup, func(o client.Object) []string {
			if g := o.(*scimv1.ScimGroupBinding).Spec.Group; g != "" {
				return []string{scimv1.FoldKey(g)}
			}
			return nil
		}},
		{&scimv1.ScimGroupBinding{}, indexBindingByPattern, func(o client.Object) []string {
			if o.(*scimv1.ScimGroupBinding).Spec.GroupPattern != "" {
				return []string{patternBindings}
			}
			return nil
		}},
		{&rbacv1.RoleBinding{}, indexOwningBinding, byBinding},
		{&rbacv1.ClusterRoleBinding{}, indexOwningBinding, byBinding},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
