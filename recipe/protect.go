package recipe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// Curator's protection prefix (ProtectedUtils): "_c_", a UUID in canonical
// text, "-".
const (
	protectedPrefix = "_c_"
	uuidLen         = 36
	// protectedLen is the length of "_c_<uuid>-".
	protectedLen = len(protectedPrefix) + uuidLen + 1
)

// RandomUUID returns a random (version 4) UUID in canonical text, lower
// case with dashes, as Java's UUID.randomUUID().toString() writes it.
func RandomUUID() string {
	var u [uuidLen]byte
	putUUID(&u)
	return string(u[:])
}

// putUUID writes a random version 4 UUID in canonical text into u.
func putUUID(u *[uuidLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails (Go 1.24)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10 (RFC 4122)
	hex.Encode(u[0:8], b[0:4])
	u[8] = '-'
	hex.Encode(u[9:13], b[4:6])
	u[13] = '-'
	hex.Encode(u[14:18], b[6:8])
	u[18] = '-'
	hex.Encode(u[19:23], b[8:10])
	u[23] = '-'
	hex.Encode(u[24:36], b[10:16])
}

// protectedPath returns the path Curator's protection mode makes of name
// in dir, dir/_c_<id>-name, with id a new random UUID when it is "", and
// the protection prefix "_c_<id>-" within it. One allocation.
func protectedPath(dir, id, name string) (path, prefix string) {
	var b strings.Builder
	b.Grow(len(dir) + 1 + protectedLen + len(name))
	b.WriteString(dir)
	if dir != "/" {
		b.WriteByte('/')
	}
	start := b.Len()
	b.WriteString(protectedPrefix)
	if id == "" {
		var u [uuidLen]byte
		putUUID(&u)
		b.Write(u[:])
	} else {
		b.WriteString(id)
	}
	b.WriteByte('-')
	end := b.Len()
	b.WriteString(name)
	path = b.String()
	return path, path[start:end]
}

// IsProtected reports whether a node name carries Curator's protection
// prefix, as ProtectedUtils.isProtectedZNode decides it: longer than the
// 40 characters of "_c_<uuid>-", starting with "_c_", '-' after the UUID,
// and a UUID in between.
func IsProtected(name string) bool {
	return len(name) > protectedLen &&
		strings.HasPrefix(name, protectedPrefix) &&
		name[protectedLen-1] == '-' &&
		isUUID(name[len(protectedPrefix):protectedLen-1])
}

// StripProtection returns name without its protection prefix, or name
// itself when it is not protected (ProtectedUtils.normalize).
func StripProtection(name string) string {
	if IsProtected(name) {
		return name[protectedLen:]
	}
	return name
}

// isUUID reports whether s is a UUID in canonical text: 8-4-4-4-12 hex
// digits, either case.
func isUUID(s string) bool {
	if len(s) != uuidLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// CreateProtected creates a node in Curator's protection mode
// (withProtection()): the last component of path gets the prefix
// "_c_<random UUID>-", so "/locks/x/lock-" with EphemeralSequential
// becomes "/locks/x/_c_88726ba1-e900-49fb-96b4-4eaf9d8cd7b9-lock-0000000000".
// Missing parents are created as containers, every time (Create).
//
// The prefix makes a lost reply recoverable, as in Curator: when the
// create fails with a connection loss, the server may have applied it, so
// CreateProtected waits for the connection, lists the parent and takes a
// child that starts with its prefix as the result instead of creating a
// second node. For the ephemeral modes it reads the found node's Stat:
// a node whose ephemeralOwner is not the handle's session belongs to a
// session that is gone (Curator's CURATOR-498), so it is deleted
// (DeleteGuaranteed) and a node with a new prefix created.
//
// If ctx ends while a create may have been applied, CreateProtected
// returns ctx's error and, in the background, lists the parent (retrying
// across reconnects) and deletes the node it may have created
// (Curator's FindAndDeleteProtectedNodeInBackground): no node is left
// behind for the rest of the session. A ctx already done sends nothing.
//
// It returns the created path and the node's Stat.
func CreateProtected(ctx context.Context, h *zhandle.Handle, path string, data []byte, acl []zhandle.ACL, mode zhandle.CreateMode) (string, zhandle.Stat, error) {
	if err := ctx.Err(); err != nil {
		return "", zhandle.Stat{}, err
	}
	dir, name, err := splitPath(path)
	if err != nil {
		return "", zhandle.Stat{}, err
	}
	return createProtected(ctx, h, dir, name, "", data, acl, mode)
}

// createProtected is CreateProtected with the first UUID given ("": a
// random one).
func createProtected(ctx context.Context, h *zhandle.Handle, dir, name, id string, data []byte, acl []zhandle.ACL, mode zhandle.CreateMode) (string, zhandle.Stat, error) {
	for {
		path, prefix := protectedPath(dir, id, name)
		created, stat, err := Create(ctx, h, path, data, acl, mode)
		switch {
		case err == nil:
			return created, stat, nil
		case ctx.Err() != nil:
			deleteProtectedLater(h, dir, prefix)
			return "", zhandle.Stat{}, ctx.Err()
		case !Retryable(err) && !(errors.Is(err, zhandle.ErrNodeExists) && !sequential(mode)):
			return "", zhandle.Stat{}, err
		}
		// The create may have been applied; a non-sequential one that
		// finds its name taken was.
		found, stat, err := findProtected(ctx, h, dir, prefix, ephemeral(mode))
		switch {
		case err != nil:
			if ctx.Err() != nil {
				deleteProtectedLater(h, dir, prefix)
			}
			return "", zhandle.Stat{}, err
		case found != "":
			return found, stat, nil
		}
		id = "" // a new UUID: a dead session's node may still be listed under the old one
	}
}

// findProtected looks for the child of dir whose name starts with prefix
// and returns its path and Stat, or "" when there is none. With ephemeral,
// a child owned by another session is deleted in the background and not
// returned.
func findProtected(ctx context.Context, h *zhandle.Handle, dir, prefix string, ephemeral bool) (string, zhandle.Stat, error) {
	var found string
	var stat zhandle.Stat
	err := Retry(ctx, h, func() error {
		found = ""
		children, err := h.GetChildren(ctx, dir, false)
		if err != nil {
			return err
		}
		for _, child := range children {
			if strings.HasPrefix(child, prefix) {
				found = Join(dir, child)
				break
			}
		}
		if found == "" {
			return nil
		}
		stat, err = h.Exists(ctx, found, false)
		return err
	})
	switch {
	case errors.Is(err, zhandle.ErrNoNode): // the parent or the node went meanwhile
		return "", zhandle.Stat{}, nil
	case err != nil || found == "":
		return "", zhandle.Stat{}, err
	case ephemeral && stat.EphemeralOwner != h.ClientID().SessionID:
		DeleteGuaranteed(h, found, nil)
		return "", zhandle.Stat{}, nil
	}
	return found, stat, nil
}

// deleteProtectedLater finds and deletes, in the background, the child of
// dir whose name starts with prefix, if a create that ended without an
// answer made one. It lists dir until a listing succeeds or the session
// ends; the goroutine ends with it.
func deleteProtectedLater(h *zhandle.Handle, dir, prefix string) {
	go func() {
		ctx := context.Background()
		var children []string
		err := Retry(ctx, h, func() (err error) {
			children, err = h.GetChildren(ctx, dir, false)
			return err
		})
		if err != nil {
			return // NoNode: nothing was created; or the session is over, and its nodes with it
		}
		for _, child := range children {
			if strings.HasPrefix(child, prefix) {
				DeleteGuaranteed(h, Join(dir, child), nil)
			}
		}
	}()
}

func sequential(mode zhandle.CreateMode) bool {
	return mode == zhandle.PersistentSequential || mode == zhandle.EphemeralSequential ||
		mode == zhandle.PersistentSequentialWithTTL
}

func ephemeral(mode zhandle.CreateMode) bool {
	return mode == zhandle.Ephemeral || mode == zhandle.EphemeralSequential
}
