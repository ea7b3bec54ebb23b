package recipe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zkloop/zkloop/zhandle"
)

// maxParentAttempts bounds how often one create re-creates its parents:
// the server may remove an empty container between our creating it and
// our creating the child in it (it sweeps every minute by default), so
// once is not always enough, but a parent that keeps vanishing is someone
// else's doing.
const maxParentAttempts = 5

// emptyData is what Curator gives parent containers: an empty array, not
// null.
var emptyData = []byte{}

// Create creates a node as Curator's creatingParentContainersIfNeeded()
// does: when a parent is missing (NoNode) it creates every missing
// ancestor as a CONTAINER (CreateParents) and tries again, every time,
// since the server removes an empty container once it has had a child and
// a Stat cannot tell a container from a persistent node. It returns the
// created path and the node's Stat (Create2). A connection loss is
// returned as it is: the node may or may not exist then.
func Create(ctx context.Context, h *zhandle.Handle, path string, data []byte, acl []zhandle.ACL, mode zhandle.CreateMode) (string, zhandle.Stat, error) {
	for attempt := 1; ; attempt++ {
		created, stat, err := h.Create2(ctx, path, data, acl, mode)
		if !errors.Is(err, zhandle.ErrNoNode) || attempt == maxParentAttempts {
			return created, stat, err
		}
		if err := CreateParents(ctx, h, path); err != nil {
			return "", zhandle.Stat{}, err
		}
	}
}

// CreateParents creates every missing ancestor of path, not path itself,
// as a CONTAINER with empty data and zhandle.OpenACLUnsafe, the ACL
// Curator's default ACL provider gives parents. Nodes that exist already
// are left as they are, whatever their kind. It works from path's parent
// upwards, so the usual case, where only the recipe's directory is
// missing, costs one request. Connection losses are retried
// (Retry); a ctx already done sends nothing.
func CreateParents(ctx context.Context, h *zhandle.Handle, path string) error {
	dir, _, err := splitPath(path)
	if err != nil || dir == "/" {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := Retry(ctx, h, func() error {
			_, err := h.Create(ctx, dir, emptyData, zhandle.OpenACLUnsafe, zhandle.Container)
			return err
		})
		switch {
		case err == nil, errors.Is(err, zhandle.ErrNodeExists):
			return nil
		case !errors.Is(err, zhandle.ErrNoNode) || attempt == maxParentAttempts:
			return err
		}
		if err := CreateParents(ctx, h, dir); err != nil {
			return err
		}
	}
}

// splitPath splits an absolute node path into its parent ("/" for a
// top-level node) and its last component.
func splitPath(path string) (dir, name string, err error) {
	i := strings.LastIndexByte(path, '/')
	if !strings.HasPrefix(path, "/") || i == len(path)-1 {
		return "", "", fmt.Errorf("%w: %q is not the path of a node", zhandle.ErrBadArguments, path)
	}
	if i == 0 {
		return "/", path[1:], nil
	}
	return path[:i], path[i+1:], nil
}

// Join returns the path of child name under dir, which may be "/".
func Join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
