package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/zkloop/zkloop/zhandle"
	"github.com/zkloop/zkloop/zktest"
)

// programTB is the testing.TB that zktest asks for, for a
// program: Fatal and Skip end the calling goroutine, as in a test, and the
// cleanups run when the program says. zktest calls only the methods
// defined here; the embedded nil TB stands for the rest.
type programTB struct {
	testing.TB
	cleanups []func()
	err      error
}

func (t *programTB) Helper()          {}
func (t *programTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *programTB) Failed() bool     { return t.err != nil }

func (t *programTB) Logf(format string, args ...any) { log.Printf(format, args...) }

func (t *programTB) Errorf(format string, args ...any) {
	t.err = errors.Join(t.err, fmt.Errorf(format, args...))
	log.Printf(format, args...)
}

func (t *programTB) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

func (t *programTB) Fatal(args ...any) { t.Fatalf("%s", fmt.Sprint(args...)) }

func (t *programTB) Skipf(format string, args ...any) { t.Fatalf(format, args...) }

func (t *programTB) TempDir() string {
	dir, err := os.MkdirTemp("", "zkcompare")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // best effort, like testing's
	return dir
}

func (t *programTB) runCleanups() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	t.cleanups = nil
}

// startZooKeeper starts a standalone ZooKeeper with zktest and returns its
// address and the function that stops it.
func startZooKeeper() (string, func(), error) {
	t := &programTB{}
	started := make(chan string, 1)
	go func() {
		defer close(started) // also when Fatalf ends the goroutine
		started <- zktest.NewServer(t).Addr()
	}()
	addr, ok := <-started
	if !ok {
		t.runCleanups()
		return "", nil, fmt.Errorf("starting ZooKeeper: %w", t.err)
	}
	return addr, t.runCleanups, nil
}

// prepare creates the nodes the workloads use on a real server, or sets
// their data when they exist.
func prepare(addr string) error {
	c, err := dialZkloop(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	put := func(path string, size int) error {
		ctx := context.Background()
		data := payload(size)
		_, err := c.h.Create(ctx, path, data, zhandle.OpenACLUnsafe, zhandle.Persistent)
		if errors.Is(err, zhandle.ErrNodeExists) {
			_, err = c.h.Set(ctx, path, data, -1)
		}
		return err
	}
	for _, n := range []struct {
		path string
		size int
	}{{nodeRoot, 0}, {nodeRoot + "/w", 0}, {nodeRoot + "/n100", 100}, {nodeRoot + "/n10k", 10 << 10}, {nodeRoot + "/set", 100}} {
		if err := put(n.path, n.size); err != nil {
			return fmt.Errorf("creating %s: %w", n.path, err)
		}
	}
	for _, p := range watchPaths() {
		if err := put(p, 100); err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
	}
	return nil
}
