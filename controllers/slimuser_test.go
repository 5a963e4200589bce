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
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
)

// A slim user answers every question the controllers ask exactly as the full one does.
func TestSlimUserKeepsWhatTheControllersRead(t *testing.T) {
	full := func() *scimv1.ScimUser {
		return &scimv1.ScimUser{
			ObjectMeta: metav1.ObjectMeta{Name: "ada", UID: "u1", Labels: map[string]string{"team": "a"},
				Annotations: map[string]string{scimv1.ChangedAtAnnotation: "2026-01-01T00:00:00Z",
					corev1.LastAppliedConfigAnnotation: `{"big":"copy"}`},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubescim"}}},
			Spec: scimv1.ScimUserSpec{UserName: "ada@example.com", ExternalID: "00u1", DisplayName: "Ada", Active: ptr.To(true),
				Title: "Engineer", Name: &scimv1.Name{GivenName: "Ada", FamilyName: "Lovelace"},
				Emails: []scimv1.MultiValuedAttribute{{Value: "home@example.org", Type: "home"},
					{Value: "ada@example.com", Type: "work", Primary: true}},
				PhoneNumbers: []scimv1.MultiValuedAttribute{{Value: "+1 555 0100"}},
				Enterprise:   &scimv1.EnterpriseUser{Department: "R&D", Manager: &scimv1.Manager{Value: "00u0"}},
				MemberOf:     []string{"g1", "g2"}},
			Status: scimv1.ScimUserStatus{ObservedGeneration: 3},
		}
	}
	slimmed, err := SlimUser(full())
	if err != nil {
		t.Fatal(err)
	}
	slim := slimmed.(*scimv1.ScimUser)
	for _, attr := range []SubjectAttribute{SubjectUserName, SubjectEmail, SubjectExternalID} {
		opts := Options{SubjectAttribute: attr, SubjectPrefix: "oidc:", ServiceAccounts: true}.withDefaults()
		if got, want := userSubjects(slim, opts), userSubjects(full(), opts); !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: subjects of the slim user %v, of the full user %v", attr, got, want)
		}
	}
	if !slim.Spec.IsActive() || !equality.Semantic.DeepEqual(slim.Spec.MemberOf, full().Spec.MemberOf) ||
		slim.Spec.DisplayName != "Ada" || slim.Status.ObservedGeneration != 3 || slim.Labels["team"] != "a" ||
		slim.Annotations[scimv1.ChangedAtAnnotation] == "" {
		t.Errorf("slim user lost what the controllers read: %+v", slim)
	}
	if slim.ManagedFields != nil || slim.Annotations[corev1.LastAppliedConfigAnnotation] != "" ||
		slim.Spec.Name != nil || slim.Spec.Enterprise != nil || slim.Spec.PhoneNumbers != nil || slim.Spec.Title != "" {
		t.Errorf("slim user kept what nobody reads: %+v", slim)
	}
	before, _ := json.Marshal(full())
	after, _ := json.Marshal(slim)
	t.Logf("user JSON %d bytes, slim %d", len(before), len(after))
}
