package jvm

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestFindToolMissing checks that a missing java names what to install
// or set.
func TestFindToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	if _, err := FindTool("java"); err == nil || !strings.Contains(err.Error(), "apt-get install default-jdk-headless") || !strings.Contains(err.Error(), "JAVA_HOME") {
		t.Errorf("FindTool(java) without java: %v; want it to say how to install one", err)
	}
	home := t.TempDir()
	t.Setenv("JAVA_HOME", home)
	if _, err := FindTool("javac"); err == nil || !strings.Contains(err.Error(), filepath.Join(home, "bin", "javac")) {
		t.Errorf("FindTool(javac) with an empty JAVA_HOME: %v; want it to name the missing file", err)
	}
}

// requireTB records how Require ends a test.
type requireTB struct {
	testing.TB
	skipped, failed string
}

func (r *requireTB) Helper() {}

func (r *requireTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *requireTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequire(t *testing.T) {
	missing := errors.New("no java")
	for _, tc := range []struct {
		name, ci            string
		err                 error
		wantSkip, wantFatal bool
	}{
		{name: "installed", err: nil},
		{name: "missing", err: missing, wantSkip: true},
		{name: "missing under CI", ci: "true", err: missing, wantFatal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &requireTB{TB: t}
			done := make(chan struct{})
			go func() { // Skipf and Fatalf end the goroutine
				defer close(done)
				Require(r, tc.err)
			}()
			<-done
			if (r.skipped != "") != tc.wantSkip || (r.failed != "") != tc.wantFatal {
				t.Errorf("Require: skipped %q, failed %q; want skip %v, fatal %v", r.skipped, r.failed, tc.wantSkip, tc.wantFatal)
			}
			for _, msg := range []string{r.skipped, r.failed} {
				if msg != "" && !strings.Contains(msg, missing.Error()) {
					t.Errorf("Require's message %q does not say what is missing", msg)
				}
			}
		})
	}
}
