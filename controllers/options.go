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
	"fmt"
	"strings"
)

// SubjectAttribute names the ScimUser attribute that becomes the RBAC User subject name.
type SubjectAttribute string

const (
	// SubjectUserName uses spec.userName (the default).
	SubjectUserName SubjectAttribute = "userName"
	// SubjectEmail uses the primary email, else the first email.
	SubjectEmail SubjectAttribute = "email"
	// SubjectExternalID uses spec.externalId.
	SubjectExternalID SubjectAttribute = "externalId"
)

// Defaults applied by Options.withDefaults.
const (
	DefaultServiceAccountNamespace = "kubescim-users"
	DefaultMaxSubjectsPerBinding   = 1000
)

// RoleName is a role kubescim may bind: Kind is "ClusterRole" or "Role".
type RoleName struct{ Kind, Name string }

// String renders the role as "Kind/Name", the form used in ScimUser status.
func (r RoleName) String() string { return r.Kind + "/" + r.Name }

// Options configures the controllers. main.go fills it from flags.
type Options struct {
	// SubjectAttribute is the user attribute used as the RBAC subject name; default userName.
	SubjectAttribute SubjectAttribute
	// SubjectPrefix is prepended to every User subject, e.g. "oidc:" to match the API server's
	// --oidc-username-prefix.
	SubjectPrefix string
	// ServiceAccounts enables one ServiceAccount per active user, bound next to the User.
	ServiceAccounts bool
	// ServiceAccountNamespace holds the per-user ServiceAccounts; default "kubescim-users".
	ServiceAccountNamespace string
	// BindableRoles is the allow-list of roles a ScimGroupBinding may grant; default
	// ClusterRole view, edit and admin.
	BindableRoles []RoleName
	// MaxSubjectsPerBinding is the most subjects written into one RoleBinding or
	// ClusterRoleBinding; larger groups are sharded over several. Default 1000.
	MaxSubjectsPerBinding int
}

func (o Options) withDefaults() Options {
	if o.SubjectAttribute == "" {
		o.SubjectAttribute = SubjectUserName
	}
	if o.ServiceAccountNamespace == "" {
		o.ServiceAccountNamespace = DefaultServiceAccountNamespace
	}
	if o.BindableRoles == nil {
		o.BindableRoles = []RoleName{{"ClusterRole", "view"}, {"ClusterRole", "edit"}, {"ClusterRole", "admin"}}
	}
	if o.MaxSubjectsPerBinding <= 0 {
		o.MaxSubjectsPerBinding = DefaultMaxSubjectsPerBinding
	}
	return o
}

func (o Options) validate() error {
	switch o.SubjectAttribute {
	case SubjectUserName, SubjectEmail, SubjectExternalID:
	default:
		return fmt.Errorf("unknown subject attribute %q (want userName, email or externalId)", o.SubjectAttribute)
	}
	for _, r := range o.BindableRoles {
		if r.Kind != "ClusterRole" && r.Kind != "Role" {
			return fmt.Errorf("bindable role %q: kind must be ClusterRole or Role", r)
		}
	}
	return nil
}

// roleAllowed reports whether kind/name is in the allow-list.
func (o Options) roleAllowed(kind, name string) bool {
	for _, r := range o.BindableRoles {
		if r.Kind == kind && r.Name == name {
			return true
		}
	}
	return false
}

// ParseRoleNames parses a comma-separated allow-list such as "ClusterRole/view,edit,Role/deployer".
// A bare name is a ClusterRole. Empty input yields an empty, non-nil list (nothing bindable).
func ParseRoleNames(s string) ([]RoleName, error) {
	roles := []RoleName{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, name, found := strings.Cut(item, "/")
		if !found {
			kind, name = "ClusterRole", item
		}
		if kind != "ClusterRole" && kind != "Role" {
			return nil, fmt.Errorf("role %q: kind must be ClusterRole or Role", item)
		}
		if name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("role %q: invalid name", item)
		}
		roles = append(roles, RoleName{Kind: kind, Name: name})
	}
	return roles, nil
}
