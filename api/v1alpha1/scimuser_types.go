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
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Name is the SCIM "name" complex attribute (RFC 7643 §4.1.1).
type Name struct {
	// formatted is the full name, formatted for display.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Formatted string `json:"formatted,omitempty"`
	// familyName is the family (last) name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	FamilyName string `json:"familyName,omitempty"`
	// givenName is the given (first) name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	GivenName string `json:"givenName,omitempty"`
	// middleName is the middle name(s).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	MiddleName string `json:"middleName,omitempty"`
	// honorificPrefix is a title such as "Ms." or "Dr.".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	// honorificSuffix is a suffix such as "III".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// MultiValuedAttribute is one value of a SCIM multi-valued attribute such as emails or
// phoneNumbers (RFC 7643 §2.4).
type MultiValuedAttribute struct {
	// value is the attribute's value, e.g. an email address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Value string `json:"value,omitempty"`
	// display is a human-readable name for the value.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Display string `json:"display,omitempty"`
	// type labels the value, e.g. "work" or "home".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Type string `json:"type,omitempty"`
	// primary marks the preferred value; at most one value of an attribute is primary.
	// +optional
	Primary bool `json:"primary,omitempty"`
}

// Address is one value of the SCIM "addresses" attribute.
type Address struct {
	// formatted is the full mailing address.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Formatted string `json:"formatted,omitempty"`
	// streetAddress is the street part of the address.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	StreetAddress string `json:"streetAddress,omitempty"`
	// locality is the city or locality.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Locality string `json:"locality,omitempty"`
	// region is the state or region.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Region string `json:"region,omitempty"`
	// postalCode is the zip or postal code.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PostalCode string `json:"postalCode,omitempty"`
	// country is the country name or ISO 3166-1 alpha-2 code.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Country string `json:"country,omitempty"`
	// type labels the address, e.g. "work".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Type string `json:"type,omitempty"`
	// primary marks the preferred address.
	// +optional
	Primary bool `json:"primary,omitempty"`
}

// Manager is the enterprise extension's manager reference.
type Manager struct {
	// value is the SCIM id of the manager.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Value string `json:"value,omitempty"`
	// displayName is the manager's display name, when the IdP sends it.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`
}

// EnterpriseUser holds the attributes of the enterprise User extension
// (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User, RFC 7643 §4.3).
type EnterpriseUser struct {
	// employeeNumber is the organisation's identifier for the person.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	// costCenter is the cost center.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	CostCenter string `json:"costCenter,omitempty"`
	// organization is the organisation name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Organization string `json:"organization,omitempty"`
	// division is the division name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Division string `json:"division,omitempty"`
	// department is the department name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Department string `json:"department,omitempty"`
	// manager references the user's manager.
	// +optional
	Manager *Manager `json:"manager,omitempty"`
}

// ScimUserSpec is a SCIM User (RFC 7643 §4.1) as the identity provider last pushed it, or as an
// admin wrote it. The SCIM id of the user is its scim.kubescim.io/id label, a UUID set when SCIM
// creates it, or its metadata.uid when it has none (made with kubectl).
// +kubebuilder:validation:XValidation:rule="!has(self.emails) || self.emails.filter(e, has(e.primary) && e.primary).size() <= 1",message="at most one email may be primary"
type ScimUserSpec struct {
	// userName is the unique identifier the user signs in with. It is unique across users,
	// compared case-insensitively, and its case is preserved.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1f\x7f]+$`
	UserName string `json:"userName"`
	// externalId is the identity provider's own identifier for the user.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ExternalID string `json:"externalId,omitempty"`
	// name is the user's structured name.
	// +optional
	Name *Name `json:"name,omitempty"`
	// displayName is the name shown to people.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`
	// nickName is the casual name of the user.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	NickName string `json:"nickName,omitempty"`
	// profileUrl is a URL of the user's online profile.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ProfileURL string `json:"profileUrl,omitempty"`
	// title is the user's job title.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title,omitempty"`
	// userType describes the relationship to the organisation, e.g. "Employee".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	UserType string `json:"userType,omitempty"`
	// preferredLanguage is the user's preferred language (RFC 7231 Accept-Language form).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	// locale is the user's default location for localisation, e.g. "en-US".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Locale string `json:"locale,omitempty"`
	// timezone is the user's IANA time zone, e.g. "Europe/Paris".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Timezone string `json:"timezone,omitempty"`
	// active is true while the identity provider lets the user in. false (deactivated) and
	// unassigned (never sent, or removed by a SCIM PATCH) both grant nothing: the user keeps
	// its object but no access. Identity providers send active on every create.
	// +optional
	Active *bool `json:"active,omitempty"`
	// emails are the user's email addresses.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Emails []MultiValuedAttribute `json:"emails,omitempty"`
	// phoneNumbers are the user's phone numbers.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	PhoneNumbers []MultiValuedAttribute `json:"phoneNumbers,omitempty"`
	// ims are the user's instant messaging addresses.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	IMs []MultiValuedAttribute `json:"ims,omitempty"`
	// photos are URLs of the user's photos.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Photos []MultiValuedAttribute `json:"photos,omitempty"`
	// addresses are the user's physical mailing addresses.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Addresses []Address `json:"addresses,omitempty"`
	// entitlements are entitlements the identity provider assigned to the user.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	Entitlements []MultiValuedAttribute `json:"entitlements,omitempty"`
	// roles are the identity provider's role values for the user (informational; kubescim grants
	// access only through ScimGroupBindings).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	Roles []MultiValuedAttribute `json:"roles,omitempty"`
	// enterprise holds the enterprise User extension attributes.
	// +optional
	Enterprise *EnterpriseUser `json:"enterprise,omitempty"`
	// extensions preserves extension attributes kubescim does not model (for example Okta custom
	// attributes), keyed by schema URN, so that they round-trip unchanged.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Extensions map[string]apiextensionsv1.JSON `json:"extensions,omitempty"`
	// memberOf lists the names of the ScimGroup objects this user is a direct member of.
	// Membership lives on the member, not on the group, so that no object grows with the size of
	// a group (see README "Design").
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=253
	MemberOf []string `json:"memberOf,omitempty"`
}

// IsActive reports whether the user is active. RFC 7643 gives active no default, and an
// unassigned active grants nothing: where kubescim cannot tell, it takes access away.
func (s *ScimUserSpec) IsActive() bool { return s.Active != nil && *s.Active }

// AccessGrant is one role the user holds through a ScimGroupBinding: cluster-wide, or in the
// namespaces listed. There is one entry per binding, not one per namespace: every write of a
// ScimUser (the identity provider's deactivation among them) costs the API server in proportion
// to the object's size, and a list of names is a fraction of the size of a list of objects.
type AccessGrant struct {
	// scope is Cluster (a ClusterRoleBinding) or Namespaced (RoleBindings in namespaces).
	// +required
	Scope BindingScope `json:"scope"`
	// namespaces are where a Namespaced grant is in effect, sorted. The controllers list at
	// most 1000 namespace/role pairs over all of a user's grants; the Ready message gives the
	// full count.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	Namespaces []string `json:"namespaces,omitempty"`
	// role is "ClusterRole/NAME" or "Role/NAME".
	// +required
	Role string `json:"role"`
	// binding is the ScimGroupBinding that grants it.
	// +required
	Binding string `json:"binding"`
	// group is the displayName of the SCIM group the grant comes through.
	// +required
	Group string `json:"group"`
}

// ScimUserStatus is what the controllers observed and did for the user.
type ScimUserStatus struct {
	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the user's state; Ready is the summary.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// groups are the displayNames of the groups the user belongs to, directly or through nested
	// groups.
	// +optional
	// +listType=atomic
	Groups []string `json:"groups,omitempty"`
	// groupCount is len(groups), for the audit view.
	// +optional
	GroupCount int32 `json:"groupCount,omitempty"`
	// access is the user's effective access: every role granted, per ScimGroupBinding, with the
	// namespaces it is granted in.
	// +optional
	// +listType=atomic
	Access []AccessGrant `json:"access,omitempty"`
	// accessSummary is a one-line rendering of access for `kubectl get -o wide`.
	// +optional
	AccessSummary string `json:"accessSummary,omitempty"`
	// subjects are the RBAC subjects that represent the user in managed bindings.
	// +optional
	// +listType=atomic
	Subjects []rbacv1.Subject `json:"subjects,omitempty"`
}

// ScimUser is a person provisioned by an identity provider through SCIM.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=su,categories=scim
// +kubebuilder:printcolumn:name="Username",type=string,JSONPath=`.spec.userName`
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Active",type=boolean,JSONPath=`.spec.active`
// +kubebuilder:printcolumn:name="Groups",type=integer,JSONPath=`.status.groupCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="External ID",type=string,JSONPath=`.spec.externalId`,priority=1
// +kubebuilder:printcolumn:name="Access",type=string,JSONPath=`.status.accessSummary`,priority=1
type ScimUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the user as provisioned.
	// +required
	Spec ScimUserSpec `json:"spec"`
	// status is maintained by the kubescim controllers.
	// +optional
	Status ScimUserStatus `json:"status,omitempty"`
}

// ScimUserList contains a list of ScimUser.
// +kubebuilder:object:root=true
type ScimUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScimUser `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ScimUser{}, &ScimUserList{})
}
