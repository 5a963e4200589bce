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

package schema

import (
	"encoding/json"
	"testing"
)

func TestServiceProviderConfig(t *testing.T) {
	doc := ServiceProviderConfig(ServiceProviderOptions{MaxResults: 200, DocumentationURI: "https://docs"}, "https://h/scim/v2/")
	want := obj(t, `{
		"schemas":["`+ServiceProviderConfigURN+`"],"documentationUri":"https://docs",
		"patch":{"supported":true},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},
		"filter":{"supported":true,"maxResults":200},"changePassword":{"supported":false},
		"sort":{"supported":true},"etag":{"supported":true},
		"authenticationSchemes":[{"type":"oauthbearertoken","name":"OAuth Bearer Token",
			"description":"Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":"https://www.rfc-editor.org/info/rfc6750","primary":true}],
		"meta":{"resourceType":"ServiceProviderConfig","location":"https://h/scim/v2/ServiceProviderConfig"}}`)
	if !equalJSON(t, doc, want) {
		b, _ := json.Marshal(doc)
		t.Errorf("got %s", b)
	}
	bulk := ServiceProviderConfig(ServiceProviderOptions{BulkSupported: true, MaxOperations: 10, MaxPayloadSize: 1 << 20}, "")["bulk"]
	if !equalJSON(t, bulk, map[string]any{"supported": true, "maxOperations": 10, "maxPayloadSize": 1 << 20}) {
		t.Errorf("bulk = %v", bulk)
	}
}

func TestSchemaDocument(t *testing.T) {
	doc := SchemaDocument(User, "https://h/scim/v2")
	if doc["id"] != UserURN || doc["meta"].(map[string]any)["location"] != "https://h/scim/v2/Schemas/"+UserURN ||
		doc["meta"].(map[string]any)["resourceType"] != "Schema" {
		t.Errorf("header = %v", doc)
	}
	byName := map[string]map[string]any{}
	for _, a := range doc["attributes"].([]any) {
		m := a.(map[string]any)
		byName[m["name"].(string)] = m
	}
	if _, ok := byName["id"]; ok {
		t.Error("common attribute id listed in the schema document")
	}
	if p := byName["password"]; p["mutability"] != "writeOnly" || p["returned"] != "never" {
		t.Errorf("password = %v", p)
	}
	if u := byName["userName"]; u["required"] != true || u["uniqueness"] != "server" || u["caseExact"] != false {
		t.Errorf("userName = %v", u)
	}
	groups := byName["groups"]
	if groups["mutability"] != "readOnly" || groups["multiValued"] != true || len(groups["subAttributes"].([]any)) != 4 {
		t.Errorf("groups = %v", groups)
	}
	if _, err := json.Marshal(SchemaDocument(Group, "")); err != nil {
		t.Error(err)
	}
	members := Group.Attribute("members").SubAttribute("type")
	if len(members.CanonicalValues) != 2 || members.CanonicalValues[0] != "User" {
		t.Errorf("members.type canonical values = %v", members.CanonicalValues)
	}
	ent := SchemaDocument(EnterpriseUser, "")
	if len(ent["attributes"].([]any)) != 6 {
		t.Errorf("enterprise attributes = %d", len(ent["attributes"].([]any)))
	}
}

func TestResourceTypeDocument(t *testing.T) {
	got := ResourceTypeDocument(UserResource, "https://h/scim/v2")
	want := obj(t, `{"schemas":["`+ResourceTypeURN+`"],"id":"User","name":"User","endpoint":"/Users",
		"description":"User Account","schema":"`+UserURN+`",
		"schemaExtensions":[{"schema":"`+EnterpriseUserURN+`","required":false}],
		"meta":{"resourceType":"ResourceType","location":"https://h/scim/v2/ResourceTypes/User"}}`)
	if !equalJSON(t, got, want) {
		b, _ := json.Marshal(got)
		t.Errorf("got %s", b)
	}
	if _, ok := ResourceTypeDocument(GroupResource, "")["schemaExtensions"]; ok {
		t.Error("Group has no extensions")
	}
}
