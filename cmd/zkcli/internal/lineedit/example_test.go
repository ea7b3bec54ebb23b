package lineedit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zkloop/zkloop/cmd/zkcli/internal/lineedit"
)

// A shell: each line typed is a command that Ctrl-C cancels, and a ticker
// prints above the line being typed.
func Example() {
	t, err := lineedit.NewTerminal(os.Stdin, os.Stdout, lineedit.Config{
		Prompt: func() string { return "> " },
		Complete: func(before string) lineedit.Completion {
			start := strings.LastIndexByte(before, ' ') + 1
			if strings.HasPrefix("sleep", before[start:]) {
				return lineedit.Completion{Start: start, Items: []string{"sleep "}, Show: []string{"sleep"}}
			}
			return lineedit.Completion{Start: start}
		},
		HistoryFile: os.ExpandEnv("$HOME/.example_history"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // not a terminal
		return
	}
	defer t.Restore()
	out := t.Writer(os.Stdout)
	go func() {
		for now := range time.Tick(10 * time.Second) {
			fmt.Fprintln(out, now.Format(time.TimeOnly))
		}
	}()
	for {
		line, err := t.ReadLine()
		if errors.Is(err, lineedit.ErrInterrupted) {
			continue // Ctrl-C: the line is dropped
		}
		if err != nil {
			return // io.EOF: Ctrl-D
		}
		err = t.Run(context.Background(), func(ctx context.Context) error {
			if strings.TrimSpace(line) != "sleep" {
				_, err := fmt.Fprintf(out, "you typed %q\n", line)
				return err
			}
			select {
			case <-time.After(5 * time.Second):
				return nil
			case <-ctx.Done():
				return ctx.Err() // Ctrl-C
			}
		})
		if err != nil {
			fmt.Fprintln(out, err)
		}
	}
}
