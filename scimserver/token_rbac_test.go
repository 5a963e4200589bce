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

package scimserver

import (
	"context"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/api/v1alpha1"
)

// TestTokenSecretWithOnlyItsRBAC runs a SCIM server as a user that may read the token Secret by
// resourceNames only, as the chart's Role grants: the manager's cache, restricted to that
// Secret (CacheByObject), lists and watches it with a field selector on its name, which is all
// such a Role allows, so the server becomes ready and accepts the Secret's token.
func TestTokenSecretWithOnlyItsRBAC(t *testing.T) {
	ctx := context.Background()
	const user = "kubescim-scim-rbac-test"
	key := types.NamespacedName{Namespace: tokenKey.Namespace, Name: "only-this-secret"}
	token := "rbac-secret-token-" + strings.Repeat("r", 32)
	create := func(obj client.Object) {
		t.Helper()
		if err := k8sClient.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
	}
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	create(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"scimusers", "scimgroups"},
		Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
	}}})
	create(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user}})
	create(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: key.Namespace}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{key.Name},
		Verbs: []string{"get", "list", "watch"},
	}}})
	create(&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: key.Namespace}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user}})
	create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Data: map[string][]byte{"idp": []byte(token)}})

	cfg := rest.CopyConfig(testMgr.GetConfig())
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	// startOnManagerAs returns once the server is ready, which needs the token Secret loaded.
	s := startOnManagerAs(t, cfg, ctrl.Options{},
		Options{BindAddress: "127.0.0.1:0", TokenSecret: key, FailedAuthRate: 1000, FailedAuthBurst: 1000})
	callURL(t, "http://"+s.Addr(), token, http.MethodGet, "/scim/v2/Users", nil).expect(t, http.StatusOK)
}
