package jvm

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DebianJar returns the path of a jar installed by a Debian package, in
// /usr/share/java.
func DebianJar(name string) string { return filepath.Join("/usr/share/java", name) }

// QuickFlags make a small JVM quick to start: one GC thread, C1 only, the
// class-data sharing archive, no /tmp/hsperfdata_* files.
var QuickFlags = []string{
	"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:-UsePerfData",
	"-Djava.net.preferIPv4Stack=true",
}

// FindTool returns $JAVA_HOME/bin/<name> if JAVA_HOME is set, else name
// from PATH; name is java or javac.
func FindTool(name string) (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		tool := filepath.Join(home, "bin", name)
		if _, err := os.Stat(tool); err != nil {
			return "", fmt.Errorf("JAVA_HOME is set but has no %s: %w", name, err)
		}
		return tool, nil
	}
	tool, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found; install a JDK (Debian: apt-get install default-jdk-headless) or set JAVA_HOME", name)
	}
	return tool, nil
}

// Require skips the test, or fails it when the environment variable CI is
// set, if err, which names what is missing and how to install it, is not
// nil.
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%v (CI is set, so this is an error)", err)
	}
	t.Skipf("%v", err)
}

// FileTail returns up to the last n bytes of a log file, from a line start.
func FileTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close() // read only
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	off := max(fi.Size()-n, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	if off > 0 {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
