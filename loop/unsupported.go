//go:build !linux

package loop

// The poll loop is written against Linux's poll(2) and pipe2(2) through
// x/sys/unix; other systems are not supported yet. This line makes the
// build say so instead of failing on a missing Loop.
var _ int = "zkloop supports only Linux (GOOS=linux)"
