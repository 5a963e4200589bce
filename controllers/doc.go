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

// Package controllers turns SCIM group membership into RBAC. There is one reconciler per root
// kind:
//
//   - ScimGroupBindingReconciler writes the RoleBindings (one set per selected namespace) or
//     ClusterRoleBindings of a binding. Subjects are the active users, with a valid subject
//     name, of the bound group and of every group nested in it (cycles are walked once). A
//     binding selects its groups by displayName or by groupPattern (pattern.go); with a
//     namespaceTemplate each matched group is bound only in the namespace its captures make.
//     evaluate (evaluate.go) decides what a binding grants and is shared with the read-only
//     previews of the kubectl plugin (preview.go, inspect.go), so both always agree.
//   - ScimUserReconciler maintains the user's status (groups, effective access, subjects) and,
//     with per-user ServiceAccounts enabled, the user's ServiceAccount.
//   - ScimGroupReconciler maintains the group's status and its deletion finalizer, which removes
//     the group from its members' spec.memberOf before the group goes away.
//
// Fan-out runs through cache field indexes: a user change re-reconciles exactly the bindings of
// the groups it is (or was) in, directly or through nesting; a group change those of the group
// and its ancestors, and the pattern bindings its old or new displayName matches; a namespace change those whose namespaces or selector match it; a change to
// a managed RoleBinding (drift) its binding.
//
// Managed objects are named "kubescim-<binding>" for the first shard and
// "kubescim-<binding>:<n>" for further shards (":" cannot occur in a binding name, so no two
// bindings' objects collide). Each holds at most Options.MaxSubjectsPerBinding subjects; a
// subject's shard is chosen by a hash of its name, so one membership change rewrites one shard.
// A binding whose group currently has no eligible members keeps one RoleBinding per namespace
// with no subjects: the object shows where the binding applies, and the next member is a patch.
// Bindings are labelled app.kubernetes.io/managed-by=kubescim and scim.kubescim.io/binding, and
// owned by their ScimGroupBinding; kubescim prunes them itself (namespaces that stop matching,
// shards no longer needed, refused or deleted bindings) rather than rely on the garbage
// collector.
//
// Writes. A managed RoleBinding, ClusterRoleBinding or ServiceAccount is created with Create and
// afterwards brought in line by server-side apply (field manager kubescim, forcing ownership of
// what kubescim sets), and only when the cached object differs from the desired one: labels,
// annotations and owner references others add stay theirs, drift in what kubescim sets is
// repaired, and a resync of an unchanged binding costs no API call. The caches hold only
// labelled objects, so an object someone else made under a kubescim name is read live and never
// applied to blindly: a RoleBinding is adopted, a ServiceAccount is left alone and reported.
// roleRef is immutable: an object whose roleRef differs is replaced. status.observedGeneration
// moves only after a pass that put the generation into effect; the conditions say why not.
//
// A binding of a namespaced Role binds it by name in each selected namespace, also where no Role
// of that name exists: the RoleBinding grants nothing there until someone allowed to create Roles
// in that namespace creates it, and it is kept up to date (members revoked) all the same.
//
// Fail closed. A binding grants only what a complete evaluation of it says; where kubescim cannot
// decide, it takes access away, so revocation never depends on the binding being healthy:
//
//   - Refused: the role is not in the allow-list, or the API server's escalation check refuses
//     kubescim the role (RoleNotAllowed; that check guards even the writes that only remove a
//     subject); the namespaceSelector cannot be evaluated (InvalidNamespaceSelector); the
//     groupPattern or namespaceTemplate is invalid (InvalidGroupPattern); no live group has the
//     displayName or matches the pattern, a group being deleted counting as gone
//     (GroupNotFound); the grant window is closed (NotYetActive, Expired); the
//     members or the namespaces cannot be read, so nobody can tell who should have access where
//     (EvaluationFailed). Every one of these leaves the pass through refuse: Ready=False with the
//     reason, a Warning Event when the binding enters the state, every RoleBinding and
//     ClusterRoleBinding of the binding deleted, and boundNamespaces, namespaceCount and subjects
//     cleared. A spec problem ends the pass with a terminal error (the next spec change brings
//     the binding back), a missing group waits for the group, the rest are retried.
//   - A write fails part-way (ApplyFailed): the namespaces that were written are in effect. In a
//     namespace whose write failed, every object still holding a subject that should go is
//     deleted (a delete passes no escalation check); objects that hold only wanted subjects
//     stay, so one failed grant does not become an outage for everybody else. The pass is
//     retried.
//   - The binding is being deleted: its objects are deleted at once.
//
// In none of these states does a deactivated user, a deleted one or one whose deletion is pending
// (a finalizer) remain a subject. Cache reads fail only when the cache itself is broken, so
// refusing on a failed read costs nothing in normal operation.
//
// Subject names that the API server treats specially (empty, "system:..." in any case, with or
// without the configured prefix, "*", names with control characters or surrounding spaces) are
// never written; the user gets SubjectValid=False and is granted nothing.
//
// Per-user ServiceAccounts: a user obtains a short-lived token for theirs with the
// TokenRequest API, e.g. `kubectl create token <scimuser-object-name> -n kubescim-users`
// (run by an admin or a self-service portal allowed to create serviceaccounts/token there).
// Deactivating or deleting the user deletes the ServiceAccount, which invalidates all its
// tokens; reactivation creates a new one.
//
// Audit: every subject added or removed is logged by the logger named "audit" as one structured
// line with the user's SCIM id and userName (the audit log is the one place personal data is
// logged at info level: it exists to say who got or lost access), the namespaces, role, group,
// binding, and the name (never the value) of the SCIM token that made the change. userSource
// says where the user's identity comes from: the ScimUser, what was remembered when its deletion
// was observed, or, when neither can be found (the user was deleted while kubescim was not
// running, or the lookup failed, then userLookupError says why), the subject itself, which every
// line carries and whose userName is given when subjects are userNames. Events are recorded on
// the ScimUser, ScimGroup and ScimGroupBinding for user-visible transitions.
package controllers
