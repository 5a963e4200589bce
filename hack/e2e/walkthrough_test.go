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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// devStartTimeout covers the control plane, kube-controller-manager and the operator.
	devStartTimeout = 3 * time.Minute
	// accessTimeout bounds how long a `kubectl auth can-i` step may take to show a change: RBAC
	// follows a SCIM write asynchronously, typically within a second.
	accessTimeout = 30 * time.Second
)

// TestREADMEWalkthrough builds kubescim, runs `kubescim dev`, and executes every sh block between
// the README's walkthrough markers in order, with KUBECONFIG, TOKEN and SCIM set as the README's
// quick start tells a reader to set them. Blocks running `kubectl auth can-i` must print the
// answer their trailing comment promises.
func TestREADMEWalkthrough(t *testing.T) {
	runWalkthrough(t, "walkthrough", []string{"yes", "no"})
}

// runWalkthrough runs the README's sh blocks between the named markers against a fresh
// `kubescim dev` started with devArgs; the `kubectl auth can-i` blocks must answer want, in
// order.
func runWalkthrough(t *testing.T, name string, want []string, devArgs ...string) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := walkthroughBlocks(filepath.Join(root, "README.md"), name)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh) go test ./hack/e2e/")
	}

	tmp := t.TempDir()
	binary := filepath.Join(tmp, "kubescim")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", binary, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubescim: %v\n%s", err, out)
	}

	dev := startDev(t, root, binary, filepath.Join(tmp, ".dev"), devArgs...)
	env := append(os.Environ(),
		"KUBECONFIG="+filepath.Join(dev.dir, "kubeconfig"),
		"TOKEN="+dev.token,
		"SCIM="+dev.scimURL,
	)
	// Issue 8: the dev cluster reports a real server version, so kubectl version succeeds.
	if out, err := runBlock(t, "kubectl version", tmp, env); err != nil || !strings.Contains(out, "Server Version: v1.35.4") {
		t.Errorf("kubectl version against kubescim dev: %v\n%s", err, out)
	}

	// The blocks run where .dev is, as a reader's shell in the repository does.
	work := tmp

	var answers []string
	for i, block := range blocks {
		if want, ok := canIExpectation(block); ok {
			answers = append(answers, strings.SplitN(want, " ", 2)[0])
			if got := runUntil(t, block, work, env, want); got != want {
				t.Fatalf("walkthrough block %d printed %q within %s, want %q:\n%s\nkubescim dev log:\n%s",
					i+1, got, accessTimeout, want, block, dev.logTail())
			}
			continue
		}
		out, err := runBlock(t, block, work, env)
		if err != nil {
			t.Fatalf("walkthrough block %d failed: %v\n%s\noutput:\n%s\nkubescim dev log:\n%s", i+1, err, block, out, dev.logTail())
		}
		if strings.Contains(block, "get scimusers") && !strings.Contains(out, "alice@example.com") {
			t.Errorf("walkthrough block %d does not list alice@example.com:\n%s", i+1, out)
		}
	}
	if !slices.Equal(answers, want) {
		t.Errorf("walkthrough asks kubectl auth can-i with expected answers %v, want %v", answers, want)
	}
	dev.stop(t)
}

var (
	shBlock       = regexp.MustCompile("(?s)\x60\x60\x60sh\n(.*?)\x60\x60\x60")
	expectComment = regexp.MustCompile(`#\s*((?:yes|no)(?: - [^\n]*)?)\s*$`)
)

// walkthroughBlocks returns the sh code blocks between the markers "<!-- NAME:start -->" and
// "<!-- NAME:end -->".
func walkthroughBlocks(readme, name string) ([]string, error) {
	data, err := os.ReadFile(readme)
	if err != nil {
		return nil, err
	}
	_, rest, ok := strings.Cut(string(data), "<!-- "+name+":start -->")
	section, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s has no %[2]s:start / %[2]s:end markers", readme, name)
	}
	var blocks []string
	for _, m := range shBlock.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%s has no sh blocks in its walkthrough", readme)
	}
	return blocks, nil
}

// canIExpectation returns the answer a `kubectl auth can-i` block promises in its comment.
func canIExpectation(block string) (string, bool) {
	if !strings.Contains(block, "auth can-i") {
		return "", false
	}
	m := expectComment.FindStringSubmatch(strings.TrimSpace(block))
	if m == nil {
		return "?", true
	}
	return m[1], true
}

func runBlock(t *testing.T, block, dir string, env []string) (string, error) {
	cmd := exec.CommandContext(t.Context(), "bash", "-c", "set -uo pipefail\n"+block)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// runUntil reruns a read-only block until its output is want or accessTimeout passes, and
// returns the last output. kubectl auth can-i exits 1 when the answer is no, so the exit status
// is not an error here.
func runUntil(t *testing.T, block, dir string, env []string, want string) string {
	deadline := time.Now().Add(accessTimeout)
	for {
		out, _ := runBlock(t, block, dir, env)
		got := strings.TrimSpace(out)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// devProcess is a running `kubescim dev`.
type devProcess struct {
	cmd     *exec.Cmd
	dir     string
	logPath string
	token   string
	scimURL string
	exited  chan struct{}
	err     error
}

func startDev(t *testing.T, root, binary, dir string, args ...string) *devProcess {
	t.Helper()
	addr := freeAddr(t)
	d := &devProcess{dir: dir, logPath: dir + ".log", scimURL: "http://" + addr + "/scim/v2", exited: make(chan struct{})}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logFile.Close() })
	d.cmd = exec.Command(binary, append([]string{"dev", "--dir", dir, "--scim-bind-address", addr, "--authz-webhook-bind-address", freeAddr(t)}, args...)...)
	d.cmd.Dir = root // kubescim dev reads config/crd/bases and config/samples
	// As a reader runs it: without KUBEBUILDER_ASSETS when the binaries are where
	// hack/setup-envtest.sh puts them, so kubescim dev must find them itself.
	d.cmd.Env = withoutDefaultAssets(os.Environ(), root)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	d.cmd.SysProcAttr = devProcAttr()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.kill() })

	deadline := time.Now().Add(devStartTimeout)
	for !d.ready(t) {
		select {
		case <-d.exited:
			t.Fatalf("kubescim dev exited: %v\n%s", d.err, d.logTail())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubescim dev did not serve SCIM within %s\n%s", devStartTimeout, d.logTail())
		}
	}

	// Issue 8: dev mode prints the base URL and ready-made curl and kubectl lines.
	log := d.logTail()
	for _, want := range []string{d.scimURL, "curl ", "kubectl ", "auth can-i ", "--as "} {
		if !strings.Contains(log, want) {
			t.Errorf("kubescim dev output lacks %q:\n%s", want, log)
		}
	}
	return d
}

// ready reports whether the token and kubeconfig are written and SCIM answers with the token.
func (d *devProcess) ready(t *testing.T) bool {
	if _, err := os.Stat(filepath.Join(d.dir, "kubeconfig")); err != nil {
		return false
	}
	token, err := os.ReadFile(filepath.Join(d.dir, "token"))
	if err != nil || len(bytes.TrimSpace(token)) == 0 {
		return false
	}
	d.token = string(bytes.TrimSpace(token))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, d.scimURL+"/ServiceProviderConfig", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop interrupts kubescim dev as Ctrl-C does and expects a clean exit that takes the control
// plane and kube-controller-manager with it.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("kubescim dev did not stop within 60s of SIGINT\n%s", d.logTail())
	}
	if d.err != nil {
		t.Errorf("kubescim dev exited with %v after SIGINT\n%s", d.err, d.logTail())
	}
	if left := processesMentioning(d.dir); len(left) > 0 {
		t.Errorf("processes still running for %s after kubescim dev stopped: %v", d.dir, left)
	}
}

func (d *devProcess) kill() {
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-d.exited:
		case <-time.After(30 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	}
}

func (d *devProcess) logTail() string {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	const max = 8000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
