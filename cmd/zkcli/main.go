package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zkloop/zkloop/cmd/zkcli/internal/lineedit"
	"github.com/zkloop/zkloop/zhandle"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1   // a command failed
	exitUsage       = 2   // the invocation is wrong
	exitInterrupted = 130 // SIGINT ended a script
)

// invocation is the parsed command line.
type invocation struct {
	session
	debug    bool
	help     bool
	commands []string // -c, each a line
	trailing []string // the command after the options, as words
	secure   securityFlags
}

// parseInvocation parses zkCli.sh's options (-server, -timeout, -r,
// -waitforconnection), cli_mt's (-h/--host, -m/--myid, -c/--cmd,
// -r/--readonly, -d/--debug, -s/--ssl), -clientid and the TLS and SASL
// flags (security.go), whose files it does not read yet. An option's value
// follows it, or is attached: --host=a:1, -ha:1. The first word that is not
// an option starts the command to run.
func parseInvocation(args []string, getenv func(string) string) (invocation, error) {
	inv := invocation{session: session{server: getenv("ZOOKEEPER_SERVERS"), timeout: 30 * time.Second}}
	if inv.server == "" {
		inv.server = "127.0.0.1:2181"
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			inv.trailing = args[i+1:]
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			inv.trailing = args[i:]
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !hasValue && len(name) > 1 && !strings.HasPrefix(arg, "--") && strings.ContainsRune("hmc", rune(name[0])) && !isLongName(name) {
			name, value, hasValue = name[:1], name[1:], true // getopt's -hhost:port
		}
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("Error: no argument found for option %s", arg)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "server", "h", "host":
			inv.server, err = takeValue()
		case "timeout":
			var v string
			if v, err = takeValue(); err == nil {
				inv.timeout, err = parseTimeout(v)
			}
		case "clientid", "m", "myid":
			inv.clientIDFile, err = takeValue()
		case "c", "cmd":
			var v string
			v, err = takeValue()
			inv.commands = append(inv.commands, v)
		case "r", "readonly":
			inv.readOnly = true
		case "waitforconnection":
			inv.wait = true
		case "trace":
			inv.trace = true
		case "d", "debug":
			inv.debug = true
		case "tls":
			inv.secure.tls = true
		case "help", "?":
			inv.help = true
		default:
			if !isSecurityFlag(name) {
				err = fmt.Errorf("Unknown option: %s", arg)
				break
			}
			var v string
			if v, err = takeValue(); err == nil {
				err = inv.secure.set(name, v)
			}
		}
		if err != nil {
			return inv, err
		}
	}
	if len(inv.commands) > 0 && len(inv.trailing) > 0 {
		return inv, errors.New("give a command either with -c or after the options, not both")
	}
	return inv, inv.secure.check(getenv)
}

func isLongName(name string) bool {
	switch name {
	case "host", "myid", "cmd", "clientid", "help":
		return true
	}
	return false
}

// parseTimeout reads the session timeout: milliseconds, as zkCli.sh's
// -timeout, or a Go duration such as 30s.
func parseTimeout(v string) (time.Duration, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("-timeout %q: want milliseconds or a duration such as 30s", v)
	}
	return d, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, stop, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// run is zkcli: it returns the exit status. Without a command and with a
// terminal on stdin and stdout it is interactive; otherwise it runs the
// command given, or the lines of stdin, and exits with 0 only when every
// command succeeded. In batch mode SIGINT cancels ctx; interactive mode
// calls stopInterrupt to take Ctrl-C over itself.
func run(ctx context.Context, stopInterrupt func(), args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv, err := parseInvocation(args, getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		writeUsage(stderr)
		return exitUsage
	}
	if inv.help {
		writeUsage(stdout)
		return exitOK
	}
	if inv.security, err = inv.secure.load(); err != nil {
		fmt.Fprintln(stderr, err) // a file: the usage would bury the message
		return exitUsage
	}
	if len(inv.commands) == 0 && len(inv.trailing) == 0 {
		if in, ok := stdin.(*os.File); ok && lineedit.IsTerminal(in) {
			if out, ok := stdout.(*os.File); ok && lineedit.IsTerminal(out) {
				stopInterrupt()
				return interactive(context.Background(), inv, getenv, in, out, stderr)
			}
		}
	}
	return batch(ctx, inv, stdin, stdout, stderr)
}

// batch runs the command given, or the lines of stdin. The first command
// that needs the session waits for it (shell.Run): a server that has just
// started drops the first connections, which would fail the first
// commands with ConnectionLoss. When no session comes, no command runs
// after that one.
func batch(ctx context.Context, inv invocation, stdin io.Reader, stdout, stderr io.Writer) int {
	out, errOut := &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
	s := newShell(inv.session, out, errOut, out, false)
	if inv.debug {
		s.logLevel.Set(slog.LevelDebug)
	}
	if err := start(ctx, s); err != nil {
		fmt.Fprintln(errOut, err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitFailed
	}
	defer finish(s)
	ok := true
	switch {
	case len(inv.trailing) > 0:
		if err := s.Run(ctx, inv.trailing); err != nil && !errors.Is(err, errQuit) {
			s.report(err)
			ok = false
		}
	case len(inv.commands) > 0:
		for _, c := range inv.commands {
			err := s.RunLine(ctx, c)
			if errors.Is(err, errQuit) {
				break
			}
			if err != nil {
				s.report(err)
				ok = false
			}
			if errors.As(err, new(*noSessionError)) {
				break
			}
		}
	default:
		ok = s.runScript(ctx, stdin)
	}
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case !ok:
		return exitFailed
	}
	return exitOK
}

// start connects, resuming the session of the -clientid file if any.
func start(ctx context.Context, s *shell) error {
	var id zhandle.ClientID
	if s.cfg.clientIDFile != "" {
		var err error
		if id, err = readClientID(s.cfg.clientIDFile); err != nil {
			fmt.Fprintf(s.errOut, "ignoring the saved session: %v\n", err)
		}
		s.savedID = id.SessionID
	}
	return s.connect(ctx, s.cfg.server, id)
}

// finish ends the session on exit; with -clientid it leaves it open for
// the next zkcli to resume.
func finish(s *shell) {
	if s.cfg.clientIDFile != "" {
		if h := s.handle(); h != nil && h.ClientID().SessionID != 0 {
			s.saveClientID(h.ClientID()) // the watcher may not have run yet, or not to its end
		}
		s.detach()
		return
	}
	s.closeHandle()
}

// historyEnv names the environment variable that overrides the history
// file, ~/.zkcli_history.
const historyEnv = "ZKCLI_HISTORY"

// historyPath is $ZKCLI_HISTORY, else ~/.zkcli_history ($HOME), else "":
// no persistence.
func historyPath(getenv func(string) string) string {
	if p := getenv(historyEnv); p != "" {
		return p
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".zkcli_history")
	}
	return ""
}

// interactive runs the shell on a terminal.
func interactive(ctx context.Context, inv invocation, getenv func(string) string, in, out *os.File, stderr io.Writer) int {
	s := newShell(inv.session, nil, nil, nil, true)
	t, err := lineedit.NewTerminal(in, out, lineedit.Config{
		Prompt:      s.prompt,
		Complete:    s.complete,
		HistoryFile: historyPath(getenv),
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	defer t.Restore()
	s.out, s.errOut, s.events = t.Writer(out), t.Writer(stderr), t.Writer(out)
	s.logger = slog.New(slog.NewTextHandler(s.errOut, &slog.HandlerOptions{Level: s.logLevel}))
	s.onState = t.Refresh
	if inv.debug {
		s.logLevel.Set(slog.LevelDebug)
	}
	exit := make(chan os.Signal, 1)
	signal.Notify(exit, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-exit
		t.Restore()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	fmt.Fprintf(s.out, "Connecting to %s\n", inv.server)
	// Resuming waits for the session: Ctrl-C gives up on it.
	if err := t.Run(ctx, func(ctx context.Context) error { return start(ctx, s) }); err != nil {
		s.report(err)
	}
	defer finish(s)
	for {
		line, err := t.ReadLine()
		switch {
		case errors.Is(err, lineedit.ErrInterrupted):
			continue
		case err != nil:
			return exitOK
		}
		err = t.Run(ctx, func(ctx context.Context) error { return s.RunLine(ctx, line) })
		if errors.Is(err, errQuit) {
			return exitOK
		}
		if err != nil {
			s.report(err)
		}
	}
}
