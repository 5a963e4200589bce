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

package devcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"
)

// AuthzWebhook puts kubescim's authorization webhook in front of RBAC: the API server gets an
// AuthorizationConfiguration (--authorization-config, instead of --authorization-mode) that asks
// the webhook first, then RBAC.
type AuthzWebhook struct {
	// Address is where the webhook will listen (a loopback host:port); the API server's kubeconfig
	// for it points there.
	Address string
	// MatchCondition is the CEL expression that selects the requests sent to the webhook
	// (authz.MatchCondition).
	MatchCondition string
}

// AuthzWebhookFiles are the files written for the webhook into Dir/authz-webhook.
type AuthzWebhookFiles struct {
	// CertFile and KeyFile are the webhook's serving certificate (for 127.0.0.1 and localhost).
	CertFile, KeyFile string
	// ClientCAFile signs the API server's client certificate.
	ClientCAFile string
	// ConfigFile is the API server's AuthorizationConfiguration; KubeconfigFile its connection
	// to the webhook.
	ConfigFile, KubeconfigFile string
}

// writeAuthzWebhook writes a CA, the webhook's serving certificate, the API server's client
// certificate, its kubeconfig for the webhook and the AuthorizationConfiguration into dir.
func writeAuthzWebhook(dir string, w AuthzWebhook) (*AuthzWebhookFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the authorization webhook's directory: %w", err)
	}
	host, _, err := net.SplitHostPort(w.Address)
	if err != nil {
		return nil, fmt.Errorf("authorization webhook address %q: %w", w.Address, err)
	}
	f := &AuthzWebhookFiles{
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		ClientCAFile: filepath.Join(dir, "ca.crt"), ConfigFile: filepath.Join(dir, "authorization-config.yaml"),
		KubeconfigFile: filepath.Join(dir, "kubeconfig"),
	}
	ca, caKey, _, caPEM, err := newCert(nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "kubescim-dev-authz-webhook-ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, err
	}
	serving := &x509.Certificate{Subject: pkix.Name{CommonName: "kubescim-authz-webhook"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		serving.IPAddresses = append(serving.IPAddresses, ip)
	}
	_, _, servingKey, servingPEM, err := newCert(ca, caKey, serving)
	if err != nil {
		return nil, err
	}
	_, _, clientKey, clientPEM, err := newCert(ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature})
	if err != nil {
		return nil, err
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	_, port, _ := net.SplitHostPort(w.Address)
	kubeconfig := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "webhook",
		"clusters": []any{map[string]any{"name": "kubescim", "cluster": map[string]any{
			"server": "https://" + net.JoinHostPort(host, port) + "/authorize", "certificate-authority-data": caPEM}}},
		"users": []any{map[string]any{"name": "kube-apiserver", "user": map[string]any{
			"client-certificate-data": clientPEM, "client-key-data": clientKey}}},
		"contexts": []any{map[string]any{"name": "webhook", "context": map[string]any{"cluster": "kubescim", "user": "kube-apiserver"}}},
	}
	config := AuthorizationConfig(f.KubeconfigFile, w.MatchCondition)
	for path, v := range map[string]any{f.KubeconfigFile: kubeconfig, f.ConfigFile: config} {
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	for path, b := range map[string][]byte{f.CertFile: servingPEM, f.KeyFile: servingKey, f.ClientCAFile: caPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return f, nil
}

// AuthorizationConfig is the AuthorizationConfiguration that asks kubescim's webhook, reached
// through kubeconfigFile, about the requests matchCondition selects, then RBAC. The webhook
// only ever denies or has no opinion, so no-opinion answers (which the API server counts as
// unauthorized) are not cached: a cached one would delay a later deny by its TTL.
func AuthorizationConfig(kubeconfigFile, matchCondition string) map[string]any {
	return map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthorizationConfiguration",
		"authorizers": []any{
			map[string]any{"type": "Webhook", "name": "kubescim", "webhook": map[string]any{
				"timeout":                    "1s",
				"subjectAccessReviewVersion": "v1",
				"matchConditionSubjectAccessReviewVersion": "v1",
				"failurePolicy":             "NoOpinion",
				"authorizedTTL":             "10s",
				"unauthorizedTTL":           "1s",
				"cacheUnauthorizedRequests": false,
				"connectionInfo":            map[string]any{"type": "KubeConfigFile", "kubeConfigFile": kubeconfigFile},
				"matchConditions":           []any{map[string]any{"expression": matchCondition}},
			}},
			map[string]any{"type": "RBAC", "name": "rbac"},
		},
	}
}

// newCert creates a certificate from template, signed by parent (self-signed when nil), and
// returns it with its key, the PEM-encoded key and the PEM-encoded certificate.
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, template *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	template.SerialNumber = serial
	template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour)
	signer, signerKey := parent, parentKey
	if parent == nil {
		signer, signerKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("creating a certificate for %s: %w", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
