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
package fleet

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/controllers"
)

// kind is one mirrored resource type.
type kind struct {
	name    string
	newObj  func() client.Object
	newList func() client.ObjectList
	items   func(client.ObjectList) []client.Object
	// sameSpec reports whether two objects' specs agree; copySpec copies src's spec into dst.
	sameSpec func(a, b client.Object) bool
	copySpec func(dst, src client.Object)
}

var userKind = kind{
	name:    "ScimUser",
	newObj:  func() client.Object { return &scimv1.ScimUser{} },
	newList: func() client.ObjectList { return &scimv1.ScimUserList{} },
	items: func(l client.ObjectList) []client.Object {
		items := l.(*scimv1.ScimUserList).Items
		out := make([]client.Object, len(items))
		for i := range items {
			out[i] = &items[i]
		}
		return out
	},
	// The member's controllers cache slim users (controllers.SlimUser): the fields access
	// depends on. Comparing those catches every local edit that could change access.
	sameSpec: func(a, b client.Object) bool {
		return equality.Semantic.DeepEqual(slim(a), slim(b))
	},
	copySpec: func(dst, src client.Object) {
		dst.(*scimv1.ScimUser).Spec = *src.(*scimv1.ScimUser).Spec.DeepCopy()
	},
}

func slim(u client.Object) scimv1.ScimUserSpec {
	s, _ := controllers.SlimUser(u.DeepCopyObject())
	return s.(*scimv1.ScimUser).Spec
}

var groupKind = kind{
	name:    "ScimGroup",
	newObj:  func() client.Object { return &scimv1.ScimGroup{} },
	newList: func() client.ObjectList { return &scimv1.ScimGroupList{} },
	items: func(l client.ObjectList) []client.Object {
		items := l.(*scimv1.ScimGroupList).Items
		out := make([]client.Object, len(items))
		for i := range items {
			out[i] = &items[i]
		}
		return out
	},
	sameSpec: func(a, b client.Object) bool {
		return equality.Semantic.DeepEqual(a.(*scimv1.ScimGroup).Spec, b.(*scimv1.ScimGroup).Spec)
	},
	copySpec: func(dst, src client.Object) {
		dst.(*scimv1.ScimGroup).Spec = *src.(*scimv1.ScimGroup).Spec.DeepCopy()
	},
}

var kinds = []kind{userKind, groupKind}
