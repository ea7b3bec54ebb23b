package curator

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zkloop/zkloop/internal/jvm"
)

// curatorSource is the Java side of Curator, compiled at test time.
//
//go:embed CuratorDriver.java
var curatorSource []byte

const (
	curatorMainClass = "CuratorDriver"
	// compileTimeout bounds javac, which takes about 2 s.
	compileTimeout = 2 * time.Minute
)

// curatorJars is the driver's classpath, each jar with the Debian package
// that installs it. The manifests of the Curator jars name the same jars;
// listing them lets a missing one be named with its package.
var curatorJars = []struct{ path, pkg string }{
	{jvm.DebianJar("curator-recipes.jar"), "libcurator-recipes-java"},
	{jvm.DebianJar("curator-x-discovery.jar"), "libcurator-discovery-java"},
	{jvm.DebianJar("curator-framework.jar"), "libcurator-framework-java"},
	{jvm.DebianJar("curator-client.jar"), "libcurator-client-java"},
	{jvm.DebianJar("zookeeper.jar"), "libzookeeper-java"},
	{jvm.DebianJar("zookeeper-jute.jar"), "libzookeeper-java"},
	{jvm.DebianJar("guava.jar"), "libguava-java"},
	{jvm.DebianJar("slf4j-api.jar"), "libslf4j-java"},
	{jvm.DebianJar("slf4j-nop.jar"), "libslf4j-java"}, // Curator's and ZooKeeper's logs off
	{jvm.DebianJar("jackson-databind.jar"), "libjackson2-databind-java"},
	{jvm.DebianJar("jackson-core.jar"), "libjackson2-core-java"},
	{jvm.DebianJar("jackson-annotations.jar"), "libjackson2-annotations-java"},
}

// curatorInstallation locates java and javac and builds the jars' classpath.
func curatorInstallation() (java, javac, classpath string, err error) {
	if java, err = jvm.FindTool("java"); err != nil {
		return "", "", "", err
	}
	if javac, err = jvm.FindTool("javac"); err != nil {
		return "", "", "", err
	}
	paths := make([]string, len(curatorJars))
	for i, jar := range curatorJars {
		if _, err := os.Stat(jar.path); err != nil {
			return "", "", "", fmt.Errorf("%s not found (Debian package %s)", jar.path, jar.pkg)
		}
		paths[i] = jar.path
	}
	return java, javac, strings.Join(paths, string(os.PathListSeparator)), nil
}

// curatorBuild is the one compilation per test binary.
var curatorBuild struct {
	once    sync.Once
	classes string
	err     error
}

// curatorClasses returns the directory of the compiled driver, compiling it
// on the first call.
func curatorClasses(javac, classpath string) (string, error) {
	curatorBuild.once.Do(func() {
		curatorBuild.classes, curatorBuild.err = compileCurator(javac, classpath)
	})
	return curatorBuild.classes, curatorBuild.err
}

// compileCurator compiles the driver into a directory of the user's cache
// named by a hash of the source, javac and the classpath, unless an earlier
// run did. It compiles into a temporary directory renamed into place, so
// test binaries that compile at once (go test runs packages in parallel)
// never see a partial one.
func compileCurator(javac, classpath string) (string, error) {
	sum := sha256.New()
	for _, part := range [][]byte{curatorSource, []byte(javac), []byte(classpath)} {
		sum.Write(part)
		sum.Write([]byte{0})
	}
	parent, err := jvm.CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(parent, "curator-"+hex.EncodeToString(sum.Sum(nil))[:16])
	class := filepath.Join(dir, curatorMainClass+".class")
	if _, err := os.Stat(class); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // after a successful rename, there is nothing left to remove
	source := filepath.Join(tmp, curatorMainClass+".java")
	if err := os.WriteFile(source, curatorSource, 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, javac, "-nowarn", "-encoding", "UTF-8", "-cp", classpath, "-d", tmp, source).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("javac %s: %w\n%s", source, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(class); statErr != nil {
			return "", err
		}
		// Another test binary put its build there first.
	}
	return dir, nil
}
