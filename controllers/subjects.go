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
	"strings"
	"unicode"

	rbacv1 "k8s.io/api/rbac/v1"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// subjectVerdict is the outcome of naming a user's RBAC subject.
type subjectVerdict struct {
	// name is the final User subject name (prefix included); empty when refused.
	name string
	// reason is empty when the name is usable, else a condition reason
	// (SubjectNameMissing or ReservedSubjectName).
	reason string
	// message explains a refusal; it never contains the refused value.
	message string
}

func (v subjectVerdict) valid() bool { return v.reason == "" }

// subjectAttributeValue returns the configured attribute of the user.
func subjectAttributeValue(u *scimv1.ScimUser, attr SubjectAttribute) string {
	switch attr {
	case SubjectEmail:
		for _, e := range u.Spec.Emails {
			if e.Primary {
				return e.Value
			}
		}
		if len(u.Spec.Emails) > 0 {
			return u.Spec.Emails[0].Value
		}
		return ""
	case SubjectExternalID:
		return u.Spec.ExternalID
	default:
		return u.Spec.UserName
	}
}

// nameSubject computes the User subject name for u and refuses names the API server treats
// specially. The guard checks both the raw attribute and the prefixed name, so a
// misconfigured (or empty) prefix can never let "system:masters" through.
func nameSubject(u *scimv1.ScimUser, opts Options) subjectVerdict {
	raw := subjectAttributeValue(u, opts.SubjectAttribute)
	if strings.TrimSpace(raw) == "" {
		return subjectVerdict{reason: scimv1.SubjectNameMissingReason,
			message: "attribute " + string(opts.SubjectAttribute) + " is empty"}
	}
	name := opts.SubjectPrefix + raw
	if why := reservedSubject(raw); why != "" {
		return subjectVerdict{reason: scimv1.ReservedSubjectNameReason, message: why}
	}
	if why := reservedSubject(name); why != "" {
		return subjectVerdict{reason: scimv1.ReservedSubjectNameReason, message: why}
	}
	return subjectVerdict{name: name}
}

// reservedSubject says why name must never appear as a subject, or "" when it may.
func reservedSubject(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "system:"):
		// system:masters, system:anonymous, system:serviceaccount:..., system:kube-*, system:node:...
		return "subject names starting with \"system:\" are reserved by Kubernetes"
	case name == "*":
		return "the wildcard subject is reserved"
	case strings.TrimSpace(name) != name:
		return "subject names must not start or end with white space"
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "subject names must not contain control characters"
	}
	return ""
}

// serviceAccountName is the per-user ServiceAccount's name: the ScimUser object name, which
// is already a valid DNS subdomain and stable across userName changes.
func serviceAccountName(u *scimv1.ScimUser) string { return u.Name }

// userSubjects returns the RBAC subjects that represent an active user with a valid subject
// name: the User, plus its ServiceAccount when enabled. Refused or inactive users get none.
func userSubjects(u *scimv1.ScimUser, opts Options) []rbacv1.Subject {
	if !u.Spec.IsActive() || !u.DeletionTimestamp.IsZero() {
		return nil
	}
	v := nameSubject(u, opts)
	if !v.valid() {
		return nil
	}
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: v.name}}
	if opts.ServiceAccounts {
		subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind,
			Namespace: opts.ServiceAccountNamespace, Name: serviceAccountName(u)})
	}
	return subjects
}

// subjectKey identifies a subject in maps and sorts subjects deterministically.
func subjectKey(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return s.Kind + "/" + s.Namespace + "/" + s.Name
	}
	return s.Kind + "/" + s.Name
}
