package zhandle

import (
	"errors"
	"testing"
)

// badPaths are refused by validatePath (isValidPath of zookeeper.c,
// PathUtils.validatePath of Java), whatever the operation.
var badPaths = []struct{ name, path string }{
	{"empty", ""},
	{"relative", "a"},
	{"trailing slash", "/a/"},
	{"empty segment", "//a"},
	{"empty inner segment", "/a//b"},
	{"dot segment", "/a/./b"},
	{"dot-dot segment", "/a/../b"},
	{"final dot", "/a/."},
	{"final dot-dot", "/.."},
	{"NUL", "/a\x00b"},
	{"control character", "/a\x01"},
	{"DEL", "/a\x7f"},
	{"C1 control U+0085", "/\u0085"},
	{"surrogate U+D800 as bytes", "/\xed\xa0\x80"},
	{"private use U+E000", "/\ue000"},
	{"noncharacter U+FFFF", "/\uffff"},
	{"specials U+FFF0", "/\ufff0"},
	{"replacement character U+FFFD", "/\ufffd"},
	{"invalid UTF-8", "/a\xffb"},
	{"beyond the BMP (a surrogate pair in Java)", "/\U0001F600"},
}

// goodPaths are accepted by validatePath and by the server.
var goodPaths = []struct{ name, path string }{
	{"root", "/"},
	{"one segment", "/a"},
	{"dot in name", "/a/b.c"},
	{"leading dots", "/..a"},
	{"trailing dots", "/a.."},
	{"three dots", "/..."},
	{"space and punctuation", "/a b-_~!@#$%^&*()"},
	{"Latin-1 letters", "/ünïcödé"},
	{"CJK", "/日本語"},
	{"last char before surrogates", "/\ud7ff"},
	{"first char after private use", "/\uf900"},
}

func TestValidatePath(t *testing.T) {
	for _, tc := range badPaths {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			if err := validatePath(tc.path, false); !errors.Is(err, ErrBadArguments) {
				t.Errorf("validatePath(%q, false) = %v, want ErrBadArguments", tc.path, err)
			}
		})
	}
	for _, tc := range goodPaths {
		t.Run("good/"+tc.name, func(t *testing.T) {
			if err := validatePath(tc.path, false); err != nil {
				t.Errorf("validatePath(%q, false) = %v, want nil", tc.path, err)
			}
		})
	}
}

// A sequential create's path is checked with the sequence number the
// server appends: it may end in "/", nothing else changes.
func TestValidatePathSequential(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a/", true},
		{"/a/b-", true},
		{"/a", true},
		{"", false},
		{"a/", false},
		{"//", false},
		{"/a//", false},
		{"/./", false},
		{"/a/../", false},
		{"/a\x00/", false},
	}
	for _, tc := range tests {
		err := validatePath(tc.path, true)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrBadArguments) {
			t.Errorf("validatePath(%q, true) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func TestChrootPaths(t *testing.T) {
	tests := []struct {
		chroot string
		client string // a client path
		server string // its server path
	}{
		{"", "/", "/"},
		{"", "/a/b", "/a/b"},
		{"/app", "/", "/app"},
		{"/app", "/a", "/app/a"},
		{"/app", "/a/b", "/app/a/b"},
		{"/app/x", "/a", "/app/x/a"},
	}
	for _, tc := range tests {
		h := &Handle{chroot: tc.chroot}
		if got := h.serverPath(tc.client); got != tc.server {
			t.Errorf("chroot %q: serverPath(%q) = %q, want %q", tc.chroot, tc.client, got, tc.server)
		}
		if got := h.clientPath(tc.server); got != tc.client {
			t.Errorf("chroot %q: clientPath(%q) = %q, want %q", tc.chroot, tc.server, got, tc.client)
		}
	}
}

// clientPath leaves paths outside the chroot alone, like sub_string in C:
// the config node, and siblings that only share the chroot as a prefix.
func TestClientPathOutsideChroot(t *testing.T) {
	h := &Handle{chroot: "/app"}
	for _, p := range []string{"/zookeeper/config", "/app2", "/app2/a", "/ap", "/"} {
		if got := h.clientPath(p); got != p {
			t.Errorf("clientPath(%q) = %q, want it unchanged", p, got)
		}
	}
}
