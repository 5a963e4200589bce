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

// Command kubectl-scim is a kubectl plugin (krew-style name: copy it onto PATH and run
// `kubectl scim`) that answers questions about kubescim's access from the cluster's current
// objects, without writing anything: what a user has and why (access), who is in a group
// (members), and what applying a ScimGroupBinding would grant and revoke (preview). The
// answers come from the controllers' own evaluation (controllers.AccessOf, MembersOf, Preview).
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes scripts can rely on.
const (
	exitOK       = 0 // done; for preview: applying the binding changes nothing
	exitError    = 1 // anything went wrong: bad flags, unreadable file, API errors
	exitNotFound = 2 // the user or group does not exist
	exitChanges  = 3 // preview: applying the binding would grant or revoke something
	exitRefused  = 4 // preview: kubescim would refuse the binding (it would grant nothing)
)

// exitCode is an outcome that is not an error but has its own exit code.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := newRootCommand(os.Stdout)
	cmd.SetArgs(args)
	err := cmd.Execute()
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, errNotFound):
		fmt.Fprintln(os.Stderr, "Error:", err)
		return exitNotFound
	default:
		fmt.Fprintln(os.Stderr, "Error:", err)
		return exitError
	}
}
