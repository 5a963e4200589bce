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
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubescim/kubescim/controllers"
)

// clusterWide is how a table shows a grant without a namespace (a ClusterRoleBinding).
const clusterWide = "*"

// printAs writes v as JSON or YAML, or as a table through table.
func printAs(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	return table(w)
}

// newTable returns a kubectl-style column writer and writes the header.
func newTable(w io.Writer, columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	return tw
}

func row(tw *tabwriter.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

func namespaceCell(ns string) string {
	if ns == "" {
		return clusterWide
	}
	return ns
}

func subjectCell(s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		return s.Kind + "/" + s.Namespace + "/" + s.Name
	}
	return s.Kind + "/" + s.Name
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func activeCell(active bool) string {
	if active {
		return "active"
	}
	return "inactive"
}

// printAccess writes a user's access: one line about the user, then one row per grant.
func printAccess(w io.Writer, a controllers.Access) error {
	fmt.Fprintf(w, "User %s (userName %s, id %s): %s\n", a.User, a.UserName, orDash(a.ID), activeCell(a.Active))
	if a.NoAccess != "" {
		_, err := fmt.Fprintf(w, "No access: %s.\n", a.NoAccess)
		return err
	}
	if len(a.Grants) == 0 {
		_, err := fmt.Fprintln(w, "No access: no ScimGroupBinding grants this user anything.")
		return err
	}
	tw := newTable(w, "NAMESPACE", "ROLE", "BINDING", "GROUP", "VIA")
	for _, g := range a.Grants {
		row(tw, namespaceCell(g.Namespace), g.Role, g.Binding, g.Group, orDash(strings.Join(g.Via, " > ")))
	}
	return tw.Flush()
}

// printMembers writes a group's users, then its nested groups.
func printMembers(w io.Writer, m controllers.Members) error {
	fmt.Fprintf(w, "Group %s (%s): %d users, %d nested groups\n", m.Group, strings.Join(m.Groups, ", "), len(m.Users), len(m.Nested))
	if len(m.Users)+len(m.Nested) == 0 {
		return nil
	}
	tw := newTable(w, "KIND", "NAME", "DISPLAY NAME", "STATE", "MEMBERSHIP", "VIA")
	for _, u := range m.Users {
		row(tw, "User", u.Name, u.DisplayName, activeCell(u.Active), membership(u.Direct), u.Via)
	}
	for _, g := range m.Nested {
		row(tw, "Group", g.Name, g.DisplayName, "-", membership(g.Direct), g.Via)
	}
	return tw.Flush()
}

func membership(direct bool) string {
	if direct {
		return "direct"
	}
	return "nested"
}

// printPlan writes a preview: a summary line, a refusal if any, then one row per change.
func printPlan(w io.Writer, p controllers.Plan) error {
	fmt.Fprintf(w, "ScimGroupBinding %s (%s): %d to grant, %d to revoke, %d unchanged\n",
		p.Binding, p.Role, len(p.Grant), len(p.Revoke), p.Unchanged)
	if p.Refused != nil {
		fmt.Fprintf(w, "Refused (%s): %s. kubescim would grant nothing for this binding.\n", p.Refused.Reason, p.Refused.Message)
	}
	for _, m := range p.Skipped {
		fmt.Fprintf(w, "Skipped group %s: %s.\n", m.Group, m.Skipped)
	}
	if !p.Changed() {
		_, err := fmt.Fprintln(w, "No change.")
		return err
	}
	tw := newTable(w, "ACTION", "NAMESPACE", "ROLE", "SUBJECT", "USER")
	for _, c := range p.Grant {
		row(tw, "grant", namespaceCell(c.Namespace), c.Role, subjectCell(c.Subject), orDash(c.User))
	}
	for _, c := range p.Revoke {
		row(tw, "revoke", namespaceCell(c.Namespace), c.Role, subjectCell(c.Subject), orDash(c.User))
	}
	return tw.Flush()
}
