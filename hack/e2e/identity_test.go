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

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1 "github.com/kubescim/kubescim/api/v1alpha1"
	"github.com/kubescim/kubescim/hack/devcluster"
)

// Running a chart's pod out of cluster, as its own identity: a token for the pod's
// ServiceAccount from the TokenRequest API (what the kubelet mounts into the pod), in a
// kubeconfig the process gets with --kubeconfig (in the pod, client-go finds the mounted token
// instead), and the container's args exactly as the API server stores them, except the listen
// addresses, which become free loopback ports, and files of Secret volumes, which become copies
// of the Secret's data read by the test (secretMounts). Nothing else is replaced; an arg naming
// any other file inside the pod fails the test, since there is no such file here.

// The tests read the kubescim processes' own logs; envtest's (through controller-runtime's
// logger) would only add a warning that no logger is set.
func init() { ctrl.SetLogger(logr.Discard()) }

// identity is a chart ServiceAccount with a token minted for it.
type identity struct {
	username   string
	kubeconfig string
	config     *rest.Config
}

// mintIdentity requests a token for ServiceAccount namespace/name and writes a kubeconfig for it.
func mintIdentity(t *testing.T, cluster *devcluster.Cluster, cs kubernetes.Interface, namespace, name string) identity {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(t.Context(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["dev"] = &clientcmdapi.Cluster{Server: cluster.Config.Host, CertificateAuthorityData: cluster.Config.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "dev", AuthInfo: name, Namespace: namespace}
	kc.CurrentContext = name
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return identity{
		username:   "system:serviceaccount:" + namespace + ":" + name,
		kubeconfig: path,
		config: &rest.Config{Host: cluster.Config.Host, BearerToken: tr.Status.Token,
			TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}},
	}
}

// client is a client that acts as the identity.
func (id identity) client(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(id.config, client.Options{Scheme: adminScheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// podProcess runs binary with the container's args and env as identity, and returns it as a
// replica whose URLs are the replaced listen addresses. mounts maps a mount path in the pod to a
// local directory holding the same files (secretMounts); it fails the test if the container
// names any other file inside the pod.
func podProcess(t *testing.T, binary, name string, pod corev1.PodSpec, id identity, mounts map[string]string) *replica {
	t.Helper()
	c := pod.Containers[0]
	dir := t.TempDir()
	r := &replica{name: name, logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	args := []string{"--kubeconfig=" + id.kubeconfig}
	for _, arg := range c.Args {
		flag, value, _ := strings.Cut(arg, "=")
		switch flag {
		case "--scim-bind-address":
			addr := freeAddr(t)
			r.scimURL, arg = "http://"+addr+"/scim/v2", flag+"="+addr
		case "--health-probe-bind-address":
			addr := freeAddr(t)
			r.probeURL, arg = "http://"+addr, flag+"="+addr
		case "--metrics-bind-address":
			addr := freeAddr(t)
			r.metricURL, arg = "http://"+addr+"/metrics", flag+"="+addr
		default:
			if local, ok := localPath(mounts, value); ok {
				arg = flag + "=" + local
			} else if strings.HasPrefix(value, "/") {
				t.Fatalf("%s: %s names a file inside the pod", name, arg)
			}
		}
		args = append(args, arg)
	}
	env := os.Environ()
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
			env = append(env, fmt.Sprintf("%s=%d", e.Name, c.Resources.Limits.Memory().Value()))
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		default:
			t.Fatalf("%s: env %s comes from %+v, which the test cannot resolve", name, e.Name, e.ValueFrom)
		}
	}
	startProcess(t, r, binary, args, env)
	return r
}

// startProcess runs binary with args and env as r, logging to r.logPath; the test's cleanup
// stops it as the kubelet does (SIGTERM, then SIGKILL after the grace period).
func startProcess(t testing.TB, r *replica, binary string, args, env []string) {
	t.Helper()
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(binary, args...)
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	r.cmd.SysProcAttr = replicaProcAttr()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		_ = logFile.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.terminate(30 * time.Second)
		if t.Failed() {
			t.Logf("log of %s:\n%s", r.name, r.logTail())
		}
	})
}

// terminate sends SIGTERM and waits up to grace for the process to exit, then kills it.
func (r *replica) terminate(grace time.Duration) {
	if !r.running() {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(grace):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// runToCompletion runs binary with the container's args as identity, as a Job's pod, and
// returns its output; a non-zero exit fails the test.
func runToCompletion(t *testing.T, binary string, c corev1.Container, id identity) string {
	t.Helper()
	args := append([]string{c.Args[0], "--kubeconfig=" + id.kubeconfig}, c.Args[1:]...)
	cmd := exec.CommandContext(t.Context(), binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubescim %v: %v\n%s", c.Args, err, out.String())
	}
	return out.String()
}

// adminScheme knows the built-in kinds and kubescim's.
func adminScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := scimv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// secretMounts writes, for every Secret volume the pod's container mounts, the files the kubelet
// would project (all keys, or the volume's items) into a local directory, read from the API as
// an admin. It returns mount path -> local directory, for podProcess.
func secretMounts(t *testing.T, cs kubernetes.Interface, namespace string, pod corev1.PodSpec) map[string]string {
	t.Helper()
	mounts := map[string]string{}
	for _, m := range pod.Containers[0].VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || pod.Volumes[i].Secret == nil {
			continue
		}
		src := pod.Volumes[i].Secret
		secret, err := cs.CoreV1().Secrets(namespace).Get(t.Context(), src.SecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret %s of volume %s: %v", src.SecretName, m.Name, err)
		}
		files := map[string]string{} // key -> path in the volume
		for key := range secret.Data {
			files[key] = key
		}
		if len(src.Items) > 0 {
			files = map[string]string{}
			for _, item := range src.Items {
				files[item.Key] = item.Path
			}
		}
		dir := t.TempDir()
		for key, path := range files {
			if err := os.WriteFile(filepath.Join(dir, path), secret.Data[key], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		mounts[m.MountPath] = dir
	}
	return mounts
}

// localPath maps a path inside the pod to its local copy, if it lies in one of mounts.
func localPath(mounts map[string]string, path string) (string, bool) {
	for mountPath, dir := range mounts {
		if rest, ok := strings.CutPrefix(path, mountPath+"/"); ok {
			return filepath.Join(dir, rest), true
		}
	}
	return "", false
}
