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
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"sort"
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	metaac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// fieldOwner is the field manager of every write kubescim makes.
const fieldOwner = client.FieldOwner("kubescim")

// maxObjectNameLength bounds managed RoleBinding names (the general object-name limit).
const maxObjectNameLength = 253

// shardFill is the target fill of a shard: subjects are spread over enough shards that each is
// about three quarters full, so a hashed spread rarely needs to spill into the next shard.
const shardFill = 0.75

// managedBindingName is the deterministic name of shard i of a ScimGroupBinding's RoleBindings
// (or ClusterRoleBindings): "kubescim-<binding>", then "kubescim-<binding>:1", ":2"... The
// shard separator ":" cannot occur in a ScimGroupBinding name (a DNS subdomain), so no
// binding's shard ever collides with another binding's name. Over-long names are truncated and
// made unique with a hash of the full name.
func managedBindingName(binding string, shard int) string {
	name := "kubescim-" + binding
	if shard > 0 {
		name += ":" + strconv.Itoa(shard)
	}
	if len(name) <= maxObjectNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:maxObjectNameLength-11] + "-" + hex.EncodeToString(sum[:5])
}

// sortSubjects orders subjects deterministically (by kind, namespace, name).
func sortSubjects(s []rbacv1.Subject) {
	sort.Sort(bySubjectKey(s))
}

type bySubjectKey []rbacv1.Subject

func (s bySubjectKey) Len() int      { return len(s) }
func (s bySubjectKey) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s bySubjectKey) Less(i, j int) bool {
	a, b := s[i], s[j]
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// shardSubjects splits subjects into shards of at most max subjects. Every subject goes to the
// shard chosen by a hash of its key (spilling to the next shard with room when that one is full),
// so adding or removing one subject rewrites one shard, not every shard after it. The result is
// deterministic for a given set; it always has at least one (possibly empty) shard.
func shardSubjects(subjects []rbacv1.Subject, max int) [][]rbacv1.Subject {
	n := 1
	if len(subjects) > max {
		n = int(float64(len(subjects))/(float64(max)*shardFill)) + 1
	}
	sorted := append([]rbacv1.Subject(nil), subjects...)
	sortSubjects(sorted)
	shards := make([][]rbacv1.Subject, n)
	for _, s := range sorted {
		h := fnv.New32a()
		h.Write([]byte(subjectKey(s))) // hash.Hash: Write never returns an error
		i := int(h.Sum32() % uint32(n))
		for len(shards[i]) >= max {
			i = (i + 1) % n
		}
		shards[i] = append(shards[i], s)
	}
	return shards
}

// managedLabels are the labels of every RoleBinding/ClusterRoleBinding of a ScimGroupBinding.
func managedLabels(binding string) map[string]string {
	return map[string]string{scimv1.ManagedByLabel: scimv1.ManagedByValue, scimv1.BindingLabel: binding}
}

// ownerRef makes the ScimGroupBinding the controller owner, so deleting it garbage-collects
// its bindings in a real cluster (kubescim also prunes them itself).
func ownerRef(b *scimv1.ScimGroupBinding) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: scimv1.GroupVersion.String(), Kind: "ScimGroupBinding",
		Name: b.Name, UID: b.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// desiredBindings returns the managed objects for one namespace ("" = cluster scope).
func desiredBindings(b *scimv1.ScimGroupBinding, namespace string, shards [][]rbacv1.Subject) []client.Object {
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: b.Spec.RoleRef.Kind, Name: b.Spec.RoleRef.Name}
	objs := make([]client.Object, 0, len(shards))
	for i, subjects := range shards {
		meta := metav1.ObjectMeta{
			Name: managedBindingName(b.Name, i), Namespace: namespace,
			Labels: managedLabels(b.Name), OwnerReferences: []metav1.OwnerReference{ownerRef(b)},
		}
		if namespace == "" {
			objs = append(objs, &rbacv1.ClusterRoleBinding{ObjectMeta: meta, RoleRef: roleRef, Subjects: subjects})
		} else {
			objs = append(objs, &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: roleRef, Subjects: subjects})
		}
	}
	return objs
}

// bindingParts exposes the fields shared by RoleBinding and ClusterRoleBinding.
func bindingParts(o client.Object) (*rbacv1.RoleRef, *[]rbacv1.Subject) {
	switch b := o.(type) {
	case *rbacv1.RoleBinding:
		return &b.RoleRef, &b.Subjects
	case *rbacv1.ClusterRoleBinding:
		return &b.RoleRef, &b.Subjects
	}
	panic("not a RoleBinding or ClusterRoleBinding")
}

// inSync reports whether an existing object already says what desired says, so that nothing
// is written when nothing changed.
func inSync(existing, desired client.Object) bool {
	exRef, exSubjects := bindingParts(existing)
	deRef, deSubjects := bindingParts(desired)
	if *exRef != *deRef || !equality.Semantic.DeepEqual(nilIfEmpty(*exSubjects), nilIfEmpty(*deSubjects)) {
		return false
	}
	for k, v := range desired.GetLabels() {
		if existing.GetLabels()[k] != v {
			return false
		}
	}
	return hasOwnerRef(existing, desired.GetOwnerReferences()[0])
}

func nilIfEmpty(s []rbacv1.Subject) []rbacv1.Subject {
	if len(s) == 0 {
		return nil
	}
	return s
}

func hasOwnerRef(o client.Object, ref metav1.OwnerReference) bool {
	for _, r := range o.GetOwnerReferences() {
		if r.UID == ref.UID && ptr.Deref(r.Controller, false) {
			return true
		}
	}
	return false
}

// otherController reports whether o has a controller owner reference other than ref (left by
// an earlier ScimGroupBinding of the same name, or by someone else). Server-side apply keeps
// owner references it does not own, and an object may have only one controller, so such an
// object is replaced rather than applied to.
func otherController(o client.Object, ref metav1.OwnerReference) bool {
	for _, r := range o.GetOwnerReferences() {
		if r.UID != ref.UID && ptr.Deref(r.Controller, false) {
			return true
		}
	}
	return false
}

// ownerReferenceApplyConfigurations converts owner references for an apply request.
func ownerReferenceApplyConfigurations(refs []metav1.OwnerReference) []*metaac.OwnerReferenceApplyConfiguration {
	out := make([]*metaac.OwnerReferenceApplyConfiguration, len(refs))
	for i, r := range refs {
		out[i] = metaac.OwnerReference().WithAPIVersion(r.APIVersion).WithKind(r.Kind).WithName(r.Name).
			WithUID(r.UID).WithController(ptr.Deref(r.Controller, false)).WithBlockOwnerDeletion(ptr.Deref(r.BlockOwnerDeletion, false))
	}
	return out
}

// bindingApplyConfiguration is the server-side apply request for a desired RoleBinding or
// ClusterRoleBinding: kubescim's labels, its owner reference, the roleRef and the subjects.
// Labels, annotations and owner references that others set are theirs and stay. An empty
// shard sends "subjects": [] explicitly: an apply configuration omits an empty list, and the
// API server would leave a list someone else wrote (drift) in place.
func bindingApplyConfiguration(o client.Object) (runtime.ApplyConfiguration, error) {
	ref, subjects := bindingParts(o)
	roleRef := rbacac.RoleRef().WithAPIGroup(ref.APIGroup).WithKind(ref.Kind).WithName(ref.Name)
	subs := make([]*rbacac.SubjectApplyConfiguration, len(*subjects))
	for i, s := range *subjects {
		subs[i] = rbacac.Subject().WithKind(s.Kind).WithAPIGroup(s.APIGroup).WithName(s.Name)
		if s.Namespace != "" {
			subs[i].WithNamespace(s.Namespace)
		}
	}
	owners := ownerReferenceApplyConfigurations(o.GetOwnerReferences())
	var ac runtime.ApplyConfiguration
	switch o.(type) {
	case *rbacv1.RoleBinding:
		ac = rbacac.RoleBinding(o.GetName(), o.GetNamespace()).WithLabels(o.GetLabels()).
			WithOwnerReferences(owners...).WithRoleRef(roleRef).WithSubjects(subs...)
	case *rbacv1.ClusterRoleBinding:
		ac = rbacac.ClusterRoleBinding(o.GetName()).WithLabels(o.GetLabels()).
			WithOwnerReferences(owners...).WithRoleRef(roleRef).WithSubjects(subs...)
	default:
		panic("not a RoleBinding or ClusterRoleBinding")
	}
	if len(subs) > 0 {
		return ac, nil
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ac)
	if err != nil {
		return nil, err
	}
	raw["subjects"] = []any{}
	return client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: raw}), nil
}

// subjectsOf returns an object's subjects.
func subjectsOf(o client.Object) []rbacv1.Subject {
	_, s := bindingParts(o)
	return *s
}
