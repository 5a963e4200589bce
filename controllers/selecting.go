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
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// bindingsSelecting returns the ScimGroupBindings (those being deleted included) that select
// a group of this displayName: the ones naming it, one index lookup, and the pattern bindings
// whose pattern matches it. A binding with an invalid pattern selects nothing.
func bindingsSelecting(ctx context.Context, c client.Reader, displayName string) ([]*scimv1.ScimGroupBinding, error) {
	var named, patterned scimv1.ScimGroupBindingList
	if err := c.List(ctx, &named, client.MatchingFields{scimv1.IndexBindingGroup: scimv1.FoldKey(displayName)}, readOnly); err != nil {
		return nil, fmt.Errorf("listing ScimGroupBindings of group %q: %w", displayName, err)
	}
	if err := c.List(ctx, &patterned, client.MatchingFields{indexBindingByPattern: patternBindings}, readOnly); err != nil {
		return nil, fmt.Errorf("listing ScimGroupBindings with a groupPattern: %w", err)
	}
	out := make([]*scimv1.ScimGroupBinding, 0, len(named.Items))
	for i := range named.Items {
		out = append(out, &named.Items[i])
	}
	for i := range patterned.Items {
		b := &patterned.Items[i]
		if sel, err := selectorOf(b); err == nil && sel.matches(displayName) {
			out = append(out, b)
		}
	}
	return out, nil
}

// namespacesFor returns where b grants to the members of group g: the namespace its template
// places g in (when b holds it), or every namespace b holds managed objects in, or [""] for
// cluster scope.
func namespacesFor(b *scimv1.ScimGroupBinding, g *scimv1.ScimGroup) []string {
	if b.Spec.Scope == scimv1.ScopeCluster {
		return []string{""}
	}
	if b.Spec.NamespaceTemplate == "" {
		return b.Status.BoundNamespaces
	}
	sel, err := selectorOf(b)
	if err != nil {
		return nil
	}
	ns, skipped := sel.namespaceFor(g.Spec.DisplayName)
	if skipped != "" || !slices.Contains(b.Status.BoundNamespaces, ns) {
		return nil
	}
	return []string{ns}
}
