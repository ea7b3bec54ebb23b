package zktest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/zkloop/zkloop/internal/jvm"
)

// Environment variables that point at a ZooKeeper installed from a release
// tarball of zookeeper.apache.org (apache-zookeeper-<version>-bin.tar.gz,
// whose lib/ holds zookeeper-<version>.jar and every jar it needs). Without
// them, the server is Debian's (the packages zookeeper and
// libzookeeper-java).
const (
	// HomeEnv names the installation directory, the tarball unpacked:
	// ZOOKEEPER_HOME=/opt/apache-zookeeper-3.8.4-bin. The classpath is
	// the jars of its lib/.
	HomeEnv = "ZOOKEEPER_HOME"
	// JarEnv names the server jar itself; the jars beside it are its
	// dependencies: ZOOKEEPER_JAR=/opt/zk/lib/zookeeper-3.8.4.jar. It
	// takes precedence over HomeEnv.
	JarEnv = "ZOOKEEPER_JAR"
)

// debianJar is the server jar of Debian's libzookeeper-java. Its manifest
// carries the classpath of its dependencies; the slf4j binding and log4j
// (dependencies of the package) are added so that the server logs, and
// netty-codec, which the manifest omits but NettyServerCnxnFactory needs
// (for every connection, TLS or not; see WithTLS).
var (
	debianJar       = jvm.DebianJar("zookeeper.jar")
	debianExtraJars = []string{jvm.DebianJar("slf4j-log4j12.jar"), jvm.DebianJar("log4j-1.2.jar"), jvm.DebianJar("netty-codec.jar")}
)

// installHelp says how to install what is missing.
const installHelp = "install ZooKeeper (Debian, Ubuntu: apt-get install zookeeper) " +
	"or unpack a release from zookeeper.apache.org and set " + HomeEnv

// installation is where java and the server are, found once per test binary.
var installation = sync.OnceValues(func() (install, error) { return findInstallation() })

// install is a java binary and the classpath of a ZooKeeper server, with
// the class-data sharing archive of the two ("" for none).
type install struct {
	java, classpath, archive string
}

// findInstallation locates java and builds the server's classpath from
// JarEnv, HomeEnv or Debian's jar, in that order.
func findInstallation() (install, error) {
	java, err := jvm.FindTool("java")
	if err != nil {
		return install{}, err
	}
	classpath, err := serverClasspath()
	if err != nil {
		return install{}, err
	}
	return install{java: java, classpath: classpath}, nil
}

func serverClasspath() (string, error) {
	if jar := os.Getenv(JarEnv); jar != "" {
		if _, err := os.Stat(jar); err != nil {
			return "", fmt.Errorf("%s: %w", JarEnv, err)
		}
		if filepath.Dir(jar) == filepath.Dir(debianJar) {
			return debianClasspath(jar), nil
		}
		// The JVM expands "dir/*" to the jars of dir.
		return joinPath(jar, filepath.Join(filepath.Dir(jar), "*")), nil
	}
	if home := os.Getenv(HomeEnv); home != "" {
		lib := filepath.Join(home, "lib")
		jars, _ := filepath.Glob(filepath.Join(lib, "zookeeper-*.jar")) // the pattern is valid
		if len(jars) == 0 {
			return "", fmt.Errorf("%s=%s has no lib/zookeeper-<version>.jar: is it an unpacked apache-zookeeper-<version>-bin tarball?", HomeEnv, home)
		}
		return filepath.Join(lib, "*"), nil
	}
	if _, err := os.Stat(debianJar); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no ZooKeeper server: %s is missing and neither %s nor %s is set; %s", debianJar, HomeEnv, JarEnv, installHelp)
		}
		return "", err
	}
	return debianClasspath(debianJar), nil
}

// debianClasspath is jar, a Debian server jar, with the jars its manifest
// leaves out.
func debianClasspath(jar string) string {
	parts := []string{jar}
	for _, extra := range debianExtraJars {
		if _, err := os.Stat(extra); err == nil {
			parts = append(parts, extra)
		}
	}
	return joinPath(parts...)
}

func joinPath(parts ...string) string { return strings.Join(parts, string(os.PathListSeparator)) }

// Available reports why no ZooKeeper server can be started here (no java,
// no server jar), or nil when one can.
func Available() error {
	_, err := installation()
	return err
}

// Require skips the test when no ZooKeeper server can be started here,
// with a message that names what is missing and how to install it. When
// the environment variable CI is set, it fails the test instead, so that
// CI cannot pass by skipping. NewServer and NewEnsemble call it; a test
// that only needs the check calls it directly.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		jvm.Require(t, fmt.Errorf("zktest: cannot start ZooKeeper: %w", err))
	}
}
