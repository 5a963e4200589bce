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
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScimGroupSpec is a SCIM Group (RFC 7643 §4.2). The SCIM id of the group is its
// scim.kubescim.io/id label, a UUID set when SCIM creates it, or its metadata.uid when it has
// none (made with kubectl). Members are not listed here: each member (ScimUser or ScimGroup) names the groups
// it belongs to in its own spec.memberOf, so a group of 100,000 members is 100,000 small objects,
// never one object near the etcd size limit.
type ScimGroupSpec struct {
	// displayName is the group's name; ScimGroupBindings refer to groups by it. It is unique
	// across groups, compared case-insensitively.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1f\x7f]+$`
	DisplayName string `json:"displayName"`
	// externalId is the identity provider's own identifier for the group.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ExternalID string `json:"externalId,omitempty"`
	// memberOf lists the names of the ScimGroup objects this group is a direct member of (nested
	// groups). Cycles are tolerated and reported on the group's status.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=253
	MemberOf []string `json:"memberOf,omitempty"`
	// extensions preserves extension attributes kubescim does not model, keyed by schema URN.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Extensions map[string]apiextensionsv1.JSON `json:"extensions,omitempty"`
}

// ScimGroupStatus is what the controllers observed for the group.
type ScimGroupStatus struct {
	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the group's state; Ready is the summary.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// userMembers is the number of users that are direct members.
	// +optional
	UserMembers int32 `json:"userMembers,omitempty"`
	// groupMembers is the number of groups that are direct members.
	// +optional
	GroupMembers int32 `json:"groupMembers,omitempty"`
	// effectiveUsers is the number of distinct users in the group, through nested groups too.
	// +optional
	EffectiveUsers int32 `json:"effectiveUsers,omitempty"`
	// bindings are the ScimGroupBindings that grant access to this group's members.
	// +optional
	// +listType=atomic
	Bindings []string `json:"bindings,omitempty"`
}

// ScimGroup is a group provisioned by an identity provider through SCIM.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sg,categories=scim
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.effectiveUsers`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="External ID",type=string,JSONPath=`.spec.externalId`,priority=1
type ScimGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the group as provisioned.
	// +required
	Spec ScimGroupSpec `json:"spec"`
	// status is maintained by the kubescim controllers.
	// +optional
	Status ScimGroupStatus `json:"status,omitempty"`
}

// ScimGroupList contains a list of ScimGroup.
// +kubebuilder:object:root=true
type ScimGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScimGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ScimGroup{}, &ScimGroupList{})
}
