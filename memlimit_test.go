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

package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimitIsAFractionOfTheContainerLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    int64 // returned, and then the runtime's limit (0: unchanged)
		wantErr bool
	}{
		{"512Mi limit", map[string]string{memoryLimitEnv: "536870912"}, 483183820, false},
		{"GOMEMLIMIT wins", map[string]string{memoryLimitEnv: "536870912", "GOMEMLIMIT": "100MiB"}, 0, false},
		{"no limit passed", nil, 0, false},
		{"garbage", map[string]string{memoryLimitEnv: "512Mi"}, 0, true},
		{"zero", map[string]string{memoryLimitEnv: "0"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			got, err := setMemoryLimit(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("setMemoryLimit = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
			runtimeLimit := debug.SetMemoryLimit(-1)
			if tc.want > 0 && runtimeLimit != tc.want {
				t.Errorf("runtime memory limit = %d, want %d", runtimeLimit, tc.want)
			}
			if tc.want == 0 && runtimeLimit != math.MaxInt64 {
				t.Errorf("runtime memory limit changed to %d", runtimeLimit)
			}
		})
	}
}
