package unixio

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadWrite(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if n, err := Write(p[1], []byte("zk")); n != 2 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 4)
	if n, err := Read(p[0], buf); n != 2 || err != nil || string(buf[:n]) != "zk" {
		t.Fatalf("Read = %d %q, %v", n, buf[:n], err)
	}
	if _, err := Read(p[0], buf); err != unix.EAGAIN {
		t.Fatalf("Read of an empty pipe = %v, want EAGAIN", err)
	}
}
