package zhandle

import (
	"os"
	"testing"

	"github.com/zkloop/zkloop/zktest"
)

// TestMain runs the tests, then kills every ZooKeeper server they left
// running (the shared server of sharedserver_test.go among them), so that no
// JVM outlives the test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	zktest.KillAll()
	os.Exit(code)
}
