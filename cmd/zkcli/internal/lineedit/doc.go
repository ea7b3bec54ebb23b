// Package lineedit reads lines from a terminal for an interactive program:
// a line editor in the manner of linenoise (one row, scrolled sideways
// when the line is wider than the terminal) with emacs keys, a history
// kept in a file, tab completion through a hook, and output from other
// goroutines printed above the line being typed, which is then redrawn
// intact. It is zkcli's editor, where zkCli.sh uses JLine and cli_mt
// readline; it knows nothing of ZooKeeper.
//
// NewTerminal puts the terminal in raw mode (termios, Linux) and takes
// Ctrl-C and SIGINT over; Restore gives them back. ReadLine edits a line;
// Run runs a command that Ctrl-C cancels; Writer wraps the terminal's
// output for use from any goroutine; Refresh redraws a prompt that has
// changed. The package example shows the loop of a shell.
package lineedit
