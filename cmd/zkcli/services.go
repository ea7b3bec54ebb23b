package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/zkloop/zkloop/recipe/discovery"
	"github.com/zkloop/zkloop/zhandle"
)

// cmdServices is "services basePath": it lists the service registry of
// curator-x-discovery (recipe/discovery) under basePath, each service's
// name, then each instance's node name and the JSON it holds, pretty
// printed as it is stored (members in their order, unknown ones
// included). An instance node that Curator could not read is marked and
// printed as it is. A missing basePath is an empty registry.
func cmdServices(ctx context.Context, s *shell, h *zhandle.Handle, o opts) error {
	base := nodePath(o.args[1])
	names, err := sortedChildren(ctx, h, base)
	if err != nil {
		return err
	}
	for _, name := range names {
		fmt.Fprintf(s.out, "%s:\n", name)
		dir := childPath(base, name)
		ids, err := sortedChildren(ctx, h, dir)
		if err != nil {
			return err
		}
		for _, id := range ids {
			data, _, err := h.Get(ctx, childPath(dir, id), false)
			switch {
			case errors.Is(err, zhandle.ErrNoNode): // unregistered meanwhile
			case err != nil:
				return fail(err, childPath(dir, id))
			default:
				writeInstance(s.out, id, data)
			}
		}
	}
	return nil
}

// sortedChildren returns the children of path, sorted; none when it does
// not exist.
func sortedChildren(ctx context.Context, h *zhandle.Handle, path string) ([]string, error) {
	children, err := h.GetChildren(ctx, path, false)
	switch {
	case errors.Is(err, zhandle.ErrNoNode):
		return nil, nil
	case err != nil:
		return nil, fail(err, path)
	}
	slices.Sort(children)
	return children, nil
}

// writeInstance prints one instance node, indented under its service.
func writeInstance(w io.Writer, id string, data []byte) {
	var inst discovery.ServiceInstance
	if err := inst.UnmarshalJSON(data); err != nil {
		fmt.Fprintf(w, "  %s: not an instance Curator can read (%v)\n", id, err)
	} else {
		fmt.Fprintf(w, "  %s:\n", id)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, data, "    ", "  ") != nil {
		fmt.Fprintf(w, "    %s\n", formatData(data, dataText))
		return
	}
	fmt.Fprintf(w, "    %s\n", bytes.TrimSpace(pretty.Bytes()))
}
