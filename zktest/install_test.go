package zktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkloop/zkloop/internal/jvm"
)

// tarball lays out a release tarball's lib/ with Debian's jars: the
// server jar under its versioned name and the jars it needs beside it.
// It returns the installation directory and the server jar.
func tarball(t *testing.T) (home, jar string) {
	t.Helper()
	if _, err := os.Stat(debianJar); err != nil {
		t.Skipf("no %s to lay out a tarball with", debianJar)
	}
	home = t.TempDir()
	lib := filepath.Join(home, "lib")
	if err := os.Mkdir(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	jar = filepath.Join(lib, "zookeeper-3.8.0.jar")
	if err := os.Symlink(debianJar, jar); err != nil {
		t.Fatal(err)
	}
	for _, extra := range debianExtraJars {
		if err := os.Symlink(extra, filepath.Join(lib, filepath.Base(extra))); err != nil {
			t.Fatal(err)
		}
	}
	return home, jar
}

func TestServerClasspath(t *testing.T) {
	home, jar := tarball(t)
	lib := filepath.Join(home, "lib")
	for _, tc := range []struct {
		name      string
		env       map[string]string
		want      string // the classpath; "" for an error
		wantError string
	}{
		{name: "home", env: map[string]string{HomeEnv: home}, want: filepath.Join(lib, "*")},
		{name: "jar", env: map[string]string{JarEnv: jar}, want: joinPath(jar, filepath.Join(lib, "*"))},
		{name: "jar first", env: map[string]string{JarEnv: jar, HomeEnv: "/nonexistent"}, want: joinPath(jar, filepath.Join(lib, "*"))},
		{name: "debian jar", env: map[string]string{JarEnv: debianJar}, want: debianClasspath(debianJar)},
		{name: "debian", want: debianClasspath(debianJar)},
		{name: "home without lib", env: map[string]string{HomeEnv: t.TempDir()}, wantError: "has no lib/zookeeper-<version>.jar"},
		{name: "missing jar", env: map[string]string{JarEnv: "/nonexistent/zookeeper.jar"}, wantError: JarEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(HomeEnv, tc.env[HomeEnv])
			t.Setenv(JarEnv, tc.env[JarEnv])
			got, err := serverClasspath()
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Errorf("serverClasspath() = %q, %v; want an error about %q", got, err, tc.wantError)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("serverClasspath() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestTarballStarts starts a server from a tarball's layout (ZOOKEEPER_HOME).
func TestTarballStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server without the class-data sharing archive")
	}
	Require(t)
	home, _ := tarball(t)
	t.Setenv(HomeEnv, home)
	t.Setenv(JarEnv, "")
	in, err := findInstallation()
	if err != nil {
		t.Fatal(err)
	}
	if in.classpath != filepath.Join(home, "lib", "*") {
		t.Fatalf("classpath %q, want the tarball's lib/*", in.classpath)
	}
	servers, err := tryStart(t, 0, newOptions(nil), in)
	if err != nil {
		t.Fatal(err)
	}
	if mode, err := servers[0].Mode(); err != nil || mode != "standalone" {
		t.Errorf("Mode() = %q, %v", mode, err)
	}
}

// TestMissingServer checks what a test without a server is told.
func TestMissingServer(t *testing.T) {
	t.Setenv(HomeEnv, "")
	t.Setenv(JarEnv, "")
	saved := debianJar
	t.Cleanup(func() { debianJar = saved })
	debianJar = jvm.DebianJar("no-such-zookeeper.jar")
	_, err := serverClasspath()
	for _, want := range []string{debianJar, HomeEnv, JarEnv, "apt-get install zookeeper", "zookeeper.apache.org"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serverClasspath() without a server: %v; want it to name %q", err, want)
		}
	}
}
