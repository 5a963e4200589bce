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

package authz

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubescim/kubescim/controllers"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	cert, key := issue(t, tmpl, nil, nil)
	return &testCA{cert: cert, key: key}
}

func (ca *testCA) issue(t *testing.T, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	cert, key := issue(t, tmpl, ca.cert, ca.key)
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func issue(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// Over real TLS, with the listener's client verification: a certificate from the client CA gets
// an answer, no certificate gets 401, and one from another CA does not even complete the handshake.
func TestTLSClientAuthentication(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	a := testAuthorizer(t, []client.Object{scimUser("bob", "bob@example.com", ptr.To(false))})
	srv := httptest.NewUnstartedServer(&handler{authz: a, maxBodyBytes: DefaultMaxBodyBytes, timeout: time.Second})
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.TLS = serverTLS(pool)
	srv.TLS.Certificates = []tls.Certificate{ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "webhook"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})}
	srv.StartTLS()
	defer srv.Close()

	clientCert := func(ca *testCA) []tls.Certificate {
		return []tls.Certificate{ca.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})}
	}
	post := func(certs []tls.Certificate) (*http.Response, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
		body := `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"` + testPrefix + `bob@example.com"}}`
		return c.Post(srv.URL+Path, "application/json", strings.NewReader(body))
	}
	resp, err := post(clientCert(ca))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("client certificate from the client CA: status %d, want 200", resp.StatusCode)
	}
	if resp, err = post(nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no client certificate: status %d, want 401", resp.StatusCode)
	}
	if resp, err = post(clientCert(other)); err == nil {
		resp.Body.Close()
		t.Errorf("client certificate from another CA: status %d, want a failed handshake", resp.StatusCode)
	}
}

func TestMatchCondition(t *testing.T) {
	for _, tc := range []struct {
		opts controllers.Options
		want string
	}{
		{controllers.Options{}, "!request.user.startsWith('system:')"},
		{controllers.Options{SubjectPrefix: "oidc:"}, `request.user.startsWith("oidc:") && !request.user.startsWith('system:')`},
		{controllers.Options{SubjectPrefix: `a"b`}, `request.user.startsWith("a\"b") && !request.user.startsWith('system:')`},
		{controllers.Options{SubjectPrefix: "oidc:", ServiceAccounts: true},
			`(request.user.startsWith("oidc:") && !request.user.startsWith('system:')) || request.user.startsWith("system:serviceaccount:kubescim-users:")`},
	} {
		if got := MatchCondition(tc.opts); got != tc.want {
			t.Errorf("MatchCondition(%+v) = %s, want %s", tc.opts, got, tc.want)
		}
	}
}
