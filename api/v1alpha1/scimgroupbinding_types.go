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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BindingScope says whether a ScimGroupBinding grants a role in namespaces or cluster-wide.
// +kubebuilder:validation:Enum=Namespaced;Cluster
type BindingScope string

const (
	// ScopeNamespaced produces one RoleBinding (or several, sharded) per selected namespace.
	ScopeNamespaced BindingScope = "Namespaced"
	// ScopeCluster produces ClusterRoleBindings.
	ScopeCluster BindingScope = "Cluster"
)

// RoleRef names the role to grant, like rbac/v1 RoleRef.
type RoleRef struct {
	// apiGroup is the group of the role; only rbac.authorization.k8s.io.
	// +optional
	// +kubebuilder:default="rbac.authorization.k8s.io"
	// +kubebuilder:validation:Enum="rbac.authorization.k8s.io"
	APIGroup string `json:"apiGroup,omitempty"`
	// kind is ClusterRole or Role. A Role is looked up by name in each bound namespace.
	// +required
	// +kubebuilder:validation:Enum=ClusterRole;Role
	Kind string `json:"kind"`
	// name is the name of the role.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ScimGroupBindingSpec says which SCIM group gets which role where.
// +kubebuilder:validation:XValidation:rule="self.scope != 'Cluster' || (!has(self.namespaces) && !has(self.namespaceSelector))",message="scope Cluster cannot be combined with namespaces or namespaceSelector"
// +kubebuilder:validation:XValidation:rule="self.scope != 'Cluster' || self.roleRef.kind == 'ClusterRole'",message="scope Cluster requires roleRef.kind ClusterRole"
// +kubebuilder:validation:XValidation:rule="has(self.group) != has(self.groupPattern)",message="exactly one of group and groupPattern is required"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceTemplate) || has(self.groupPattern)",message="namespaceTemplate requires groupPattern"
// +kubebuilder:validation:XValidation:rule="!has(self.namespaceTemplate) || (self.scope != 'Cluster' && !has(self.namespaces) && !has(self.namespaceSelector))",message="namespaceTemplate cannot be combined with namespaces, namespaceSelector or scope Cluster"
// +kubebuilder:validation:XValidation:rule="self.scope == 'Cluster' || (has(self.namespaces) && size(self.namespaces) > 0) || has(self.namespaceSelector) || has(self.namespaceTemplate)",message="scope Namespaced requires namespaces, namespaceSelector or namespaceTemplate"
// +kubebuilder:validation:XValidation:rule="!has(self.notBefore) || !has(self.expiresAt) || timestamp(self.expiresAt) > timestamp(self.notBefore)",message="expiresAt must be after notBefore"
type ScimGroupBindingSpec struct {
	// group is the displayName of the ScimGroup whose members (direct and through nested
	// groups) get the role. Matched case-insensitively. Exactly one of group and groupPattern
	// is set.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Group string `json:"group,omitempty"`
	// groupPattern selects every ScimGroup whose whole displayName matches this RE2 regular
	// expression (case-sensitive; start it with (?i) for case-insensitive). Named captures,
	// such as (?P<team>[a-z0-9-]+), can be used in namespaceTemplate. Groups pushed later are
	// bound when they appear; a group renamed so that it no longer matches loses the grant.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	GroupPattern string `json:"groupPattern,omitempty"`
	// namespaceTemplate places each group that groupPattern matches in its own namespace,
	// built from the pattern's named captures: "{team}-{env}". A group whose captures do not
	// make a valid namespace name is skipped (status.matchedGroups says why), never guessed.
	// A namespace that does not exist yet is bound when it is created.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([-a-z0-9]|\{[A-Za-z_][A-Za-z0-9_]*\})+$`
	NamespaceTemplate string `json:"namespaceTemplate,omitempty"`
	// roleRef is the role to grant.
	// +required
	RoleRef RoleRef `json:"roleRef"`
	// scope is Namespaced (the default: RoleBindings in the selected namespaces) or Cluster
	// (a ClusterRoleBinding).
	// +optional
	// +kubebuilder:default=Namespaced
	Scope BindingScope `json:"scope,omitempty"`
	// namespaces lists namespaces to bind in by name; a listed namespace that does not exist yet
	// is bound when it is created.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespaces []string `json:"namespaces,omitempty"`
	// namespaceSelector selects namespaces by label, in addition to namespaces. An empty
	// selector selects every namespace.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	// notBefore is when the binding starts granting (RFC 3339); before it, it grants nothing.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`
	// expiresAt is when the binding stops granting (RFC 3339); from then on it grants nothing.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// memberSelector makes this a fleet binding, written on a fleet's hub: it grants in every
	// member cluster whose ScimMember (on the hub) carries matching labels, and nothing in the
	// cluster that holds it. Each selected member mirrors it as a read-only copy without the
	// selector, applied by the member's own controllers like its local bindings. An empty
	// selector selects every member.
	// +optional
	MemberSelector *metav1.LabelSelector `json:"memberSelector,omitempty"`
}

// ScimGroupBindingStatus is what the controllers did for the binding.
type ScimGroupBindingStatus struct {
	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the binding's state; Ready is the summary.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// boundNamespaces are the namespaces that currently hold a managed RoleBinding.
	// +optional
	// +listType=atomic
	BoundNamespaces []string `json:"boundNamespaces,omitempty"`
	// namespaceCount is len(boundNamespaces), for the audit view.
	// +optional
	NamespaceCount int32 `json:"namespaceCount,omitempty"`
	// subjects is the number of distinct RBAC subjects the binding grants.
	// +optional
	Subjects int32 `json:"subjects,omitempty"`
	// matchedGroups are the groups the binding selects (by group or groupPattern), skipped
	// ones first, then by displayName; at most 100 are listed.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	MatchedGroups []GroupMatch `json:"matchedGroups,omitempty"`
	// matchedGroupCount is how many groups the binding selects, skipped ones included.
	// +optional
	MatchedGroupCount int32 `json:"matchedGroupCount,omitempty"`
}

// GroupMatch is one group a ScimGroupBinding selects.
type GroupMatch struct {
	// group is the group's displayName.
	// +required
	Group string `json:"group"`
	// namespace is where namespaceTemplate places the group; empty without a template.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// skipped says why the group is granted nothing; empty when it is bound.
	// +optional
	Skipped string `json:"skipped,omitempty"`
}

// MaxMatchedGroupsListed bounds status.matchedGroups.
const MaxMatchedGroupsListed = 100

// ScimGroupBinding grants a role to the members of a SCIM group, in namespaces or cluster-wide.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sgb,categories=scim
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=`.spec.group`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.roleRef.name`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matchedGroupCount`
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespaceCount`
// +kubebuilder:printcolumn:name="Subjects",type=integer,JSONPath=`.status.subjects`
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Scope",type=string,JSONPath=`.spec.scope`,priority=1
// +kubebuilder:printcolumn:name="Pattern",type=string,JSONPath=`.spec.groupPattern`,priority=1
type ScimGroupBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says who gets what where.
	// +required
	Spec ScimGroupBindingSpec `json:"spec"`
	// status is maintained by the kubescim controllers.
	// +optional
	Status ScimGroupBindingStatus `json:"status,omitempty"`
}

// ScimGroupBindingList contains a list of ScimGroupBinding.
// +kubebuilder:object:root=true
type ScimGroupBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScimGroupBinding `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ScimGroupBinding{}, &ScimGroupBindingList{})
}
