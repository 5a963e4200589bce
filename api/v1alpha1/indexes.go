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
	"context"
	"strings"

	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// IDLabel holds the SCIM id of a ScimUser or ScimGroup created through SCIM: a UUID the SCIM
// server generates and sends in the create request itself (the uid is only known after the
// create). Unlike a uid it survives backup/restore and GitOps re-creation of the object.
const IDLabel = "scim.kubescim.io/id"

// ScimID is the SCIM id of obj: its IDLabel when that holds a UUID in canonical form, else its
// metadata.uid (objects made with kubectl, or by SCIM before the label existed). The SCIM server
// never sets the label on an existing object, so an object's id does not change.
func ScimID(obj client.Object) string {
	if v, ok := obj.GetLabels()[IDLabel]; ok {
		if id, err := uuid.Parse(v); err == nil && id.String() == v {
			return v
		}
	}
	return string(obj.GetUID())
}

// Field indexes on the manager's cache, shared by the SCIM server (lookups by SCIM attributes)
// and the controllers (fan-out from a user or group to the bindings that concern it). They are
// registered once, by SetupIndexes or, for one component, SetupIndexesFor.
const (
	// IndexUID indexes ScimUsers and ScimGroups by their SCIM id (ScimID).
	IndexUID = "scim.id"
	// IndexUserName indexes ScimUsers by lower-cased userName.
	IndexUserName = "scim.userName"
	// IndexExternalID indexes ScimUsers and ScimGroups by externalId (case-exact).
	IndexExternalID = "scim.externalId"
	// IndexDisplayName indexes ScimGroups by lower-cased displayName.
	IndexDisplayName = "scim.displayName"
	// IndexMemberOf indexes ScimUsers and ScimGroups by each group name in spec.memberOf, so the
	// members of a group are one index lookup.
	IndexMemberOf = "scim.memberOf"
	// IndexBindingGroup indexes ScimGroupBindings by lower-cased spec.group. Only the
	// controllers read bindings, so they register it; the SCIM server never caches them.
	IndexBindingGroup = "scim.bindingGroup"
)

// FoldKey is how case-insensitive keys (userName, group displayName) are stored in indexes.
func FoldKey(s string) string { return strings.ToLower(s) }

// SetupIndexes registers every ScimUser and ScimGroup field index on the indexer (the
// manager's field indexer): those of both components.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	return SetupIndexesFor(ctx, indexer, true, true)
}

// SetupIndexesFor registers the indexes the SCIM server (scim) and the controllers
// (controllers) read. Each index holds an entry per object, so a component registers only its
// own: the controllers need no lookups by SCIM id, userName or externalId.
func SetupIndexesFor(ctx context.Context, indexer client.FieldIndexer, scim, controllers bool) error {
	indexes := []struct {
		obj              client.Object
		field            string
		fn               client.IndexerFunc
		scim, controller bool
	}{
		{&ScimUser{}, IndexUID, func(o client.Object) []string { return []string{ScimID(o)} }, true, false},
		{&ScimUser{}, IndexUserName, func(o client.Object) []string {
			return []string{FoldKey(o.(*ScimUser).Spec.UserName)}
		}, true, false},
		{&ScimUser{}, IndexExternalID, func(o client.Object) []string {
			return nonEmpty(o.(*ScimUser).Spec.ExternalID)
		}, true, false},
		{&ScimUser{}, IndexMemberOf, func(o client.Object) []string { return o.(*ScimUser).Spec.MemberOf }, true, true},
		{&ScimGroup{}, IndexUID, func(o client.Object) []string { return []string{ScimID(o)} }, true, false},
		{&ScimGroup{}, IndexDisplayName, func(o client.Object) []string {
			return []string{FoldKey(o.(*ScimGroup).Spec.DisplayName)}
		}, true, true},
		{&ScimGroup{}, IndexExternalID, func(o client.Object) []string {
			return nonEmpty(o.(*ScimGroup).Spec.ExternalID)
		}, true, false},
		{&ScimGroup{}, IndexMemberOf, func(o client.Object) []string { return o.(*ScimGroup).Spec.MemberOf }, true, true},
	}
	for _, ix := range indexes {
		if !(scim && ix.scim || controllers && ix.controller) {
			continue
		}
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return err
		}
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
