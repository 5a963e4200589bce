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

// Condition types. Every kind carries Ready, the summary a user or `kubectl wait` looks at.
const (
	// ReadyCondition summarises the object: True when everything it asks for is in effect.
	ReadyCondition = "Ready"
	// SubjectValidCondition (ScimUser) is False when the user's subject name is refused, for
	// example because it would impersonate a system identity.
	SubjectValidCondition = "SubjectValid"
	// ServiceAccountReadyCondition (ScimUser) reports the per-user ServiceAccount, when enabled.
	ServiceAccountReadyCondition = "ServiceAccountReady"
	// MembersResolvedCondition (ScimGroup) is False when nested membership has a cycle or
	// references groups that do not exist.
	MembersResolvedCondition = "MembersResolved"
	// RoleBindableCondition (ScimGroupBinding) is False when kubescim is not allowed to bind the
	// requested role.
	RoleBindableCondition = "RoleBindable"
	// GroupFoundCondition (ScimGroupBinding) is False while no ScimGroup has the named displayName.
	GroupFoundCondition = "GroupFound"
	// HubConnectedCondition (ScimMember) is True while the member reaches the fleet's hub.
	HubConnectedCondition = "HubConnected"
	// FencedCondition (ScimMember) is True while the member has removed every grant because
	// the hub was unreachable for longer than the grace period.
	FencedCondition = "Fenced"
)

// Condition reasons.
const (
	// ReconciledReason: the object's desired state is in effect.
	ReconciledReason = "Reconciled"
	// InactiveReason: the user is deactivated; it is granted nothing.
	InactiveReason = "Inactive"
	// ReservedSubjectNameReason: the subject name is empty or one the API server treats
	// specially (system:*), so it is never written into a binding.
	ReservedSubjectNameReason = "ReservedSubjectName"
	// SubjectNameMissingReason: the attribute chosen for subject names (email, externalId) is
	// empty for this user.
	SubjectNameMissingReason = "SubjectNameMissing"
	// ServiceAccountDisabledReason: per-user ServiceAccounts are turned off.
	ServiceAccountDisabledReason = "Disabled"
	// CycleDetectedReason: nested group membership loops back on itself.
	CycleDetectedReason = "CycleDetected"
	// RoleNotAllowedReason: the role is not in kubescim's list of bindable roles, or the API
	// server refused kubescim the grant (its escalation check); the binding grants nothing.
	RoleNotAllowedReason = "RoleNotAllowed"
	// GroupNotFoundReason: no ScimGroup has the binding's group displayName (a group being
	// deleted counts as gone); the binding grants nothing.
	GroupNotFoundReason = "GroupNotFound"
	// InvalidNamespaceSelectorReason: the binding's namespaceSelector cannot be evaluated; the
	// binding grants nothing.
	InvalidNamespaceSelectorReason = "InvalidNamespaceSelector"
	// InvalidGroupPatternReason: the binding's groupPattern is not a valid RE2 expression, or
	// its namespaceTemplate names a capture the pattern does not have; the binding grants
	// nothing.
	InvalidGroupPatternReason = "InvalidGroupPattern"
	// EvaluationFailedReason: reading what the binding depends on (members, namespaces) failed,
	// so kubescim cannot tell who should have access where; the binding grants nothing until a
	// retry succeeds.
	EvaluationFailedReason = "EvaluationFailed"
	// ApplyFailedReason: writing a managed object failed; the message says why. Where a write
	// failed, objects still holding a subject that should go are deleted.
	ApplyFailedReason = "ApplyFailed"
	// NotYetActiveReason: the binding's notBefore is in the future; it grants nothing until then.
	NotYetActiveReason = "NotYetActive"
	// ExpiredReason: the binding's expiresAt has passed; it grants nothing.
	ExpiredReason = "Expired"
	// ProgressingReason: work is under way.
	ProgressingReason = "Progressing"
	// AppliesInMembersReason (Ready False): a fleet binding (spec.memberSelector) grants in the
	// selected member clusters, never in the cluster that holds it.
	AppliesInMembersReason = "AppliesInMembers"
	// MemberSilentReason (ScimMember, on the hub): the member has not reported for three of its
	// heartbeats; it may be down or cut off from the hub, and its grants follow its policy.
	MemberSilentReason = "MemberSilent"
	// NeverConnectedReason (ScimMember, on the hub): the member was registered (kubescim join)
	// but has never reported.
	NeverConnectedReason = "NeverConnected"
)

// Labels and annotations kubescim puts on what it manages.
const (
	// MirroredLabel marks a ScimUser or ScimGroup that a fleet member copied from the hub; its
	// value is the member's cluster name. The member's kubescim owns its spec.
	MirroredLabel = "scim.kubescim.io/mirrored"
	// HubResourceVersionAnnotation holds the hub's resourceVersion of the object a mirrored copy
	// was made from, so that a copy is never overwritten by an older hub version.
	HubResourceVersionAnnotation = "scim.kubescim.io/hub-resource-version"
	// ManagedByLabel marks every object kubescim writes; its value is ManagedByValue.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel.
	ManagedByValue = "kubescim"
	// BindingLabel names the ScimGroupBinding a RoleBinding or ClusterRoleBinding belongs to.
	BindingLabel = "scim.kubescim.io/binding"
	// UserLabel names the ScimUser a ServiceAccount belongs to.
	UserLabel = "scim.kubescim.io/user"
	// UserIDAnnotation holds the metadata.uid of the ScimUser a ServiceAccount belongs to, so
	// that a ServiceAccount left by an earlier user of the same name is replaced.
	UserIDAnnotation = "scim.kubescim.io/user-id"
	// UserNameAnnotation holds the userName of the ScimUser a ServiceAccount belongs to.
	UserNameAnnotation = "scim.kubescim.io/user-name"
	// ChangedAtAnnotation is stamped by the SCIM server on every ScimUser and ScimGroup it
	// writes: the time of the write (RFC 3339 with nanoseconds). Controllers measure revocation
	// latency from it.
	ChangedAtAnnotation = "scim.kubescim.io/changed-at"
	// ChangedByAnnotation is stamped next to ChangedAtAnnotation: the name (never the value) of
	// the SCIM bearer token that made the change, for the audit log.
	ChangedByAnnotation = "scim.kubescim.io/changed-by"
	// GroupFinalizer lets the group controller remove a deleted group from its members'
	// memberOf lists before the group goes away, so a later group of the same name does not
	// inherit old members.
	GroupFinalizer = "scim.kubescim.io/members"
)
