package zktest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/zkloop/zkloop/internal/jvm"
)

// serverArchive is the class-data sharing archive of this test binary's
// servers: the classes a server loads to start, parsed and verified,
// mapped by every JVM that starts a server (a quarter less start time).
var serverArchive struct {
	once sync.Once
	path string // "" when there is none
}

// archive returns the path of the servers' class-data sharing archive, or
// "" when there is none (the servers start without). On first use in a
// test binary, when the user's cache directory has no archive for this
// java and classpath, it makes one: it starts a server that writes it when
// stopped, once per machine.
func archive(t testing.TB, in install) string {
	t.Helper()
	serverArchive.once.Do(func() {
		path, err := jvm.ArchivePath("zookeeper", in.java, in.classpath)
		if err == nil {
			if _, statErr := os.Stat(path); statErr != nil {
				err = buildArchive(t, in, path)
			}
		}
		if err != nil {
			t.Logf("zktest: servers start without a class-data sharing archive: %v", err)
			return
		}
		serverArchive.path = path
	})
	return serverArchive.path
}

// buildArchive starts a server that writes the archive when it exits,
// waits until it serves, and stops it. It writes into a file of its own,
// renamed into place, so that test binaries that build at once never map a
// partial one.
func buildArchive(t testing.TB, in install, path string) error {
	tmp := path + "." + strconv.Itoa(os.Getpid()) + ".tmp"
	defer os.Remove(tmp) // only left when the build failed
	o := newOptions([]Option{WithJVMFlags(jvm.ArchiveFlag(tmp))})
	s, err := newServer(t, o, 0, in)
	if err != nil {
		return err
	}
	defer s.retire()
	if err := writeFiles(s, []*Server{s}, o); err != nil {
		return err
	}
	if err := s.launch(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.waitServing(ctx); err != nil {
		return fmt.Errorf("archiving run: %w", err)
	}
	if err := s.take((*jvm.Process).Stop); err != nil {
		return fmt.Errorf("archiving run: %w", err)
	}
	return os.Rename(tmp, path)
}
