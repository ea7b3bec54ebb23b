package lineedit

import (
	"os"

	"golang.org/x/sys/unix"
)

// Terminal modes through termios ioctls (tcgetattr/tcsetattr).

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// rawMode puts the terminal fd in the mode a line editor needs and returns
// the mode to restore: bytes are read one at a time without echo, and
// Ctrl-C, Ctrl-Z and Ctrl-\ arrive as bytes instead of signals. Unlike
// cfmakeraw, output processing stays on, so "\n" still starts a new line
// for command output.
func rawMode(fd int) (*unix.Termios, error) {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, os.NewSyscallError("tcgetattr", err)
	}
	saved := *t
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return nil, os.NewSyscallError("tcsetattr", err)
	}
	return &saved, nil
}

// setMode restores a mode saved by rawMode.
func setMode(fd int, t *unix.Termios) error {
	return os.NewSyscallError("tcsetattr", unix.IoctlSetTermios(fd, unix.TCSETS, t))
}

// columns is the terminal's width, 80 when unknown.
func columns(fd int) int {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

// suspend stops the process group, as the terminal's Ctrl-Z would, and
// returns once the shell's job control continues it.
func suspend() {
	_ = unix.Kill(0, unix.SIGTSTP) // cannot fail for our own process group
}
