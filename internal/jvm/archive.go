package jvm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// CacheDir returns zkloop's directory in the user's cache directory (in
// the temporary directory for a user without one), creating it. It keeps
// what test binaries build once for later runs: the Curator driver's
// classes, class-data sharing archives.
func CacheDir() (string, error) {
	parent, err := os.UserCacheDir()
	if err != nil {
		parent = os.TempDir()
	}
	dir := filepath.Join(parent, "zkloop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// ArchivePath returns where the class-data sharing archive of a program
// named name, run by java with classpath, lives in CacheDir: a file named
// after a hash of java, the classpath, and the path, size and time of every
// file they name, so that an upgrade of either makes a new archive. An
// archive made with ArchiveFlag and used with SharedArchiveFlag holds the
// classes the program loaded, already parsed and verified, which spares a
// JVM that maps it a quarter of its start.
func ArchivePath(name, java, classpath string) (string, error) {
	files := []string{java}
	for _, entry := range filepath.SplitList(classpath) {
		jars, err := filepath.Glob(entry) // "dir/*" stands for the jars of dir
		if err != nil {
			return "", err
		}
		files = append(files, jars...)
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\n", classpath)
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			return "", err
		}
		fi, err := os.Stat(real)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "%s %d %d\n", real, fi.Size(), fi.ModTime().UnixNano())
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name+"-"+hex.EncodeToString(sum.Sum(nil))[:16]+".jsa"), nil
}

// ArchiveFlag makes a JVM write the classes it loaded into a dynamic
// class-data sharing archive at path when it exits normally (System.exit,
// SIGTERM; not SIGKILL).
func ArchiveFlag(path string) string { return "-XX:ArchiveClassesAtExit=" + path }

// SharedArchiveFlag makes a JVM map the classes of the archive at path. A
// JVM whose java or classpath differ from the archive's ignores it, with a
// warning, as -Xshare:auto of QuickFlags allows.
func SharedArchiveFlag(path string) string { return "-XX:SharedArchiveFile=" + path }
