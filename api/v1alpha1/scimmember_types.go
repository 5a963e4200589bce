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

// ScimMemberSpec is empty: a member is selected by its labels.
type ScimMemberSpec struct{}

// ScimMemberStatus is what a member cluster's kubescim reports: on the hub, for fleet health;
// in the member itself, for its own view of the hub.
type ScimMemberStatus struct {
	// conditions: HubConnected (the member reaches the hub; on the hub, False once the member
	// has been silent for three heartbeats), Fenced (True while the member has removed every
	// grant because the hub was unreachable for longer than its grace period).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// lastContact is when the member last reached the hub.
	// +optional
	LastContact *metav1.Time `json:"lastContact,omitempty"`
	// unreachablePolicy is what the member does when the hub is unreachable: Keep (last known
	// access stays) or Revoke (every managed grant goes after gracePeriod).
	// +optional
	UnreachablePolicy UnreachablePolicy `json:"unreachablePolicy,omitempty"`
	// gracePeriod is how long the hub may be unreachable before Revoke applies.
	// +optional
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`
	// heartbeat is how often the member reports to the hub. The hub marks a member that has
	// not reported for three heartbeats silent (HubConnected False, reason MemberSilent).
	// +optional
	Heartbeat *metav1.Duration `json:"heartbeat,omitempty"`
	// users and groups are the hub identities mirrored into the member.
	// +optional
	Users int32 `json:"users,omitempty"`
	// +optional
	Groups int32 `json:"groups,omitempty"`
	// bindings is the number of ScimGroupBindings in the member.
	// +optional
	Bindings int32 `json:"bindings,omitempty"`
	// subjects is the number of RBAC subjects the member's bindings grant, summed.
	// +optional
	Subjects int32 `json:"subjects,omitempty"`
	// mirrorLagMilliseconds is, for the last identity change the member mirrored, the time from
	// the SCIM write on the hub to the member's copy (the member's RBAC follows its copy).
	// +optional
	MirrorLagMilliseconds int64 `json:"mirrorLagMilliseconds,omitempty"`
}

// UnreachablePolicy is what a member does while the hub is unreachable.
// +kubebuilder:validation:Enum=Keep;Revoke
type UnreachablePolicy string

const (
	// UnreachableKeep keeps the last known access while the hub is unreachable.
	UnreachableKeep UnreachablePolicy = "Keep"
	// UnreachableRevoke removes every grant once the hub has been unreachable for the grace
	// period, and restores them from the hub's current state on reconnect.
	UnreachableRevoke UnreachablePolicy = "Revoke"
)

// ScimMember registers one member cluster of a kubescim fleet. On the hub, `kubescim join`
// creates it and the member's kubescim writes its status (its credentials may do nothing else
// on it); in a member, kubescim keeps one of its own name with the same status.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=scim
// +kubebuilder:printcolumn:name="Connected",type=string,JSONPath=`.status.conditions[?(@.type=="HubConnected")].status`
// +kubebuilder:printcolumn:name="Last-Contact",type=date,JSONPath=`.status.lastContact`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Groups",type=integer,JSONPath=`.status.groups`
// +kubebuilder:printcolumn:name="Bindings",type=integer,JSONPath=`.status.bindings`
// +kubebuilder:printcolumn:name="Subjects",type=integer,JSONPath=`.status.subjects`
// +kubebuilder:printcolumn:name="Lag-ms",type=integer,JSONPath=`.status.mirrorLagMilliseconds`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.status.unreachablePolicy`,priority=1
// +kubebuilder:printcolumn:name="Fenced",type=string,JSONPath=`.status.conditions[?(@.type=="Fenced")].status`,priority=1
type ScimMember struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ScimMemberSpec `json:"spec,omitempty"`
	// status is written by the member's kubescim.
	// +optional
	Status ScimMemberStatus `json:"status,omitempty"`
}

// ScimMemberList contains a list of ScimMember.
// +kubebuilder:object:root=true
type ScimMemberList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScimMember `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ScimMember{}, &ScimMemberList{})
}
