package zktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Where the Debian packages zookeeper and libzookeeper-java put things. The
// jar's manifest carries the classpath of its dependencies; the slf4j binding
// and log4j (dependencies of libzookeeper-java) are added so the server logs,
// and netty-codec, which the manifest omits but NettyServerCnxnFactory needs
// (for every connection, TLS or not; see WithTLS).
const (
	// ZooKeeperJar is the server jar this package starts.
	ZooKeeperJar = "/usr/share/java/zookeeper.jar"

	// ClasspathEnv names an environment variable that, when set, replaces
	// the whole classpath (for a ZooKeeper installed elsewhere, e.g.
	// "/opt/zookeeper/lib/*:/opt/zookeeper/conf").
	ClasspathEnv = "ZKTEST_CLASSPATH"
)

var extraJars = []string{"/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar", "/usr/share/java/netty-codec.jar"}

// installation locates java and builds the classpath.
func installation() (java, classpath string, err error) {
	java, err = findJDKTool("java")
	if err != nil {
		return "", "", err
	}
	if cp := os.Getenv(ClasspathEnv); cp != "" {
		return java, cp, nil
	}
	if _, err := os.Stat(ZooKeeperJar); err != nil {
		return "", "", fmt.Errorf("ZooKeeper server jar not found: %w", err)
	}
	parts := []string{ZooKeeperJar}
	for _, jar := range extraJars {
		if _, err := os.Stat(jar); err == nil {
			parts = append(parts, jar)
		}
	}
	return java, strings.Join(parts, string(os.PathListSeparator)), nil
}

// findJDKTool returns $JAVA_HOME/bin/<name> if JAVA_HOME is set, else name
// from PATH; name is java or javac.
func findJDKTool(name string) (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		tool := filepath.Join(home, "bin", name)
		if _, err := os.Stat(tool); err != nil {
			return "", fmt.Errorf("JAVA_HOME is set but has no %s: %w", name, err)
		}
		return tool, nil
	}
	tool, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (Debian package default-jdk-headless): %w", name, err)
	}
	return tool, nil
}

// Available reports why no ZooKeeper server can be started here, or nil
// when java and the server jar are installed.
func Available() error {
	_, _, err := installation()
	return err
}

// Require skips the test when no ZooKeeper server can be started here (java
// or the server jar is missing), naming `make test`, which installs both.
// When the environment variable CI is set, a missing server fails the test
// instead, so that CI cannot pass by skipping. Standalone and StartEnsemble
// call it; tests that only need the check call it directly.
func Require(t testing.TB) {
	t.Helper()
	requireInstalled(t, "ZooKeeper", Available())
}

// requireInstalled skips the test, or fails it when CI is set, if err says
// that what it needs to start is missing.
func requireInstalled(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("zktest: cannot start %s: %v (CI is set, so this is an error)", what, err)
	}
	t.Skipf("zktest: cannot start %s: %v; `make test` installs it (or run `make deps`)", what, err)
}
