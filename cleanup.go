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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// `kubescim cleanup` takes back every grant kubescim made: the RoleBindings and
// ClusterRoleBindings of ScimGroupBindings and, with --service-account-namespace, the per-user
// ServiceAccounts there. The chart runs it in a post-delete hook Job, once helm has removed the
// controllers and their RBAC, so that nothing is left that could write a grant again; without it
// an uninstalled kubescim's RoleBindings would keep granting with nothing left to revoke them.
// The CRDs, ScimUsers, ScimGroups and ScimGroupBindings stay: a reinstall grants again.

// The cleanup Job's RBAC (config/rbac/cleanup): list and delete, nothing else.
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterrolebindings,verbs=list;delete
// +kubebuilder:rbac:groups="",namespace=kubescim-users,resources=serviceaccounts,verbs=list;delete

// cleanupOptions are the flags of `kubescim cleanup`.
type cleanupOptions struct {
	// serviceAccountNamespace holds the per-user ServiceAccounts to delete; empty: none.
	serviceAccountNamespace string
}

func bindCleanupFlags(fs *flag.FlagSet) *cleanupOptions {
	o := &cleanupOptions{}
	fs.StringVar(&o.serviceAccountNamespace, "service-account-namespace", "", "Namespace of the per-user ServiceAccounts to delete; empty deletes none (e.g. the namespace goes with the release).")
	return o
}

// managedBy selects what kubescim made: its managed-by label plus the label naming the owner
// (the ScimGroupBinding of a RoleBinding, the ScimUser of a ServiceAccount).
func managedBy(ownerLabel string) (labels.Selector, error) {
	owner, err := labels.NewRequirement(ownerLabel, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	return labels.SelectorFromSet(labels.Set{scimv1alpha1.ManagedByLabel: scimv1alpha1.ManagedByValue}).Add(*owner), nil
}

// runCleanup deletes through restConfig's identity.
func runCleanup(ctx context.Context, o *cleanupOptions, restConfig *rest.Config) error {
	c, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	return cleanup(ctx, c, o)
}

// cleanup deletes every object kubescim made and reports how many of each kind went. It goes on
// past a failed delete, so one refusal does not leave the other grants in place, and returns
// every error.
func cleanup(ctx context.Context, c client.Client, o *cleanupOptions) error {
	log := ctrl.LoggerFrom(ctx)
	bindings, err := managedBy(scimv1alpha1.BindingLabel)
	if err != nil {
		return err
	}
	users, err := managedBy(scimv1alpha1.UserLabel)
	if err != nil {
		return err
	}
	type target struct {
		kind string
		list client.ObjectList
		opts []client.ListOption
	}
	targets := []target{
		{"RoleBinding", &rbacv1.RoleBindingList{}, []client.ListOption{client.MatchingLabelsSelector{Selector: bindings}}},
		{"ClusterRoleBinding", &rbacv1.ClusterRoleBindingList{}, []client.ListOption{client.MatchingLabelsSelector{Selector: bindings}}},
	}
	if o.serviceAccountNamespace != "" {
		targets = append(targets, target{"ServiceAccount", &corev1.ServiceAccountList{},
			[]client.ListOption{client.InNamespace(o.serviceAccountNamespace), client.MatchingLabelsSelector{Selector: users}}})
	}
	var errs []error
	for _, t := range targets {
		log.Info("Deleting what kubescim granted", "kind", t.kind)
		deleted, err := deleteAll(ctx, c, t.list, t.opts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting kubescim's %ss: %w", t.kind, err))
		}
		log.Info("Deleted", "kind", t.kind, "count", deleted)
	}
	return errors.Join(errs...)
}

// deleteAll lists list with opts and deletes every item, each only if it is still the object
// listed (UID precondition). It returns how many it deleted.
func deleteAll(ctx context.Context, c client.Client, list client.ObjectList, opts ...client.ListOption) (int, error) {
	if err := c.List(ctx, list, opts...); err != nil {
		return 0, fmt.Errorf("listing: %w", err)
	}
	items, err := apimeta.ExtractList(list)
	if err != nil {
		return 0, err
	}
	deleted := 0
	var errs []error
	for _, item := range items {
		obj, ok := item.(client.Object)
		if !ok {
			return deleted, fmt.Errorf("listed %T, not an object", item)
		}
		uid := obj.GetUID()
		err := c.Delete(ctx, obj, client.Preconditions{UID: &uid})
		switch {
		case err == nil:
			deleted++
		case client.IgnoreNotFound(err) != nil:
			errs = append(errs, fmt.Errorf("deleting %s: %w", client.ObjectKeyFromObject(obj), err))
		}
	}
	return deleted, errors.Join(errs...)
}
