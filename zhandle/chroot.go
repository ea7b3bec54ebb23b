package zhandle

import (
	"fmt"
	"strings"
)

// splitChroot separates "host:port,.../chroot" into the host list and the
// chroot ("" when absent or "/"), validating the chroot as a path.
func splitChroot(connect string) (hosts, chroot string, err error) {
	hosts, chroot, found := strings.Cut(connect, "/")
	if !found {
		return connect, "", nil
	}
	chroot = "/" + chroot
	if err := validatePath(chroot, false); err != nil {
		return "", "", fmt.Errorf("chroot: %w", err)
	}
	if chroot == "/" {
		chroot = ""
	}
	return hosts, chroot, nil
}
