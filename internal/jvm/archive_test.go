package jvm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArchivePath checks that the archive's name follows java, the
// classpath and the files it names, and nothing else.
func TestArchivePath(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	java := filepath.Join(dir, "java")
	lib := filepath.Join(dir, "lib")
	jar := filepath.Join(lib, "zookeeper.jar")
	for _, f := range []string{java, jar} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := func(classpath string) string {
		t.Helper()
		p, err := ArchivePath("zookeeper", java, classpath)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	wildcard := filepath.Join(lib, "*")
	first := path(wildcard)
	if !strings.HasPrefix(filepath.Base(first), "zookeeper-") || !strings.HasSuffix(first, ".jsa") {
		t.Errorf("ArchivePath = %s, want zookeeper-<hash>.jsa", first)
	}
	if cache, _ := CacheDir(); filepath.Dir(first) != cache {
		t.Errorf("ArchivePath = %s, want it in %s", first, cache)
	}
	if again := path(wildcard); again != first {
		t.Errorf("ArchivePath changed without a change: %s, then %s", first, again)
	}
	if other := path(jar); other == first {
		t.Errorf("ArchivePath is the same for another classpath: %s", other)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(jar, later, later); err != nil {
		t.Fatal(err)
	}
	if upgraded := path(wildcard); upgraded == first {
		t.Errorf("ArchivePath is the same after a jar changed: %s", upgraded)
	}
}
