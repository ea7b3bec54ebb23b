package main

import (
	"fmt"
	"strconv"
	"strings"
)

// splitLine splits a command line into words the way zkCli.sh does
// (ZooKeeperMain.MyCommandOptions.parseCommand): a word is a run of
// non-blank characters, or a string in double or single quotes with the
// quotes removed. A quote is special only at the start of a word, so
// {"k":"v"} stays one word with its quotes, and there are no escapes inside
// quotes (use the other quote, or set -b/-x for arbitrary bytes). An
// unterminated quote is an error, where zkCli.sh silently drops the quote.
func splitLine(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case isBlank(c):
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			words = append(words, line[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(line) && !isBlank(line[j]) {
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
	}
	return words, nil
}

// isBlank is Java's \s: space, tab, newline, vertical tab, form feed, CR.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// optSpec describes the options of one command: each entry is a name,
// with a trailing ':' when the option takes a value ("v:"). Names of one
// letter may be clustered ("-se"); longer names ("-members") may also be
// written with two dashes and "=value".
type optSpec []string

// opts is a parsed command line: the options present, with their values,
// and the positional arguments, the command name first.
type opts struct {
	set  map[string]string
	args []string
}

func (o opts) has(name string) bool {
	_, ok := o.set[name]
	return ok
}

func (o opts) value(name string) string { return o.set[name] }

// usageError is a command line that does not fit the command; the shell
// prints its message with the command's usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// parse parses words (the command name first) against spec, the way the
// commons-cli DefaultParser of zkCli.sh does: options may appear anywhere,
// "--" ends them, and a negative number is an argument, not an option.
func (spec optSpec) parse(words []string) (opts, error) {
	o := opts{set: map[string]string{}}
	if len(words) == 0 {
		return o, usagef("no command")
	}
	o.args = append(o.args, words[0])
	rest := words[1:]
	for i := 0; i < len(rest); i++ {
		w := rest[i]
		switch {
		case w == "--":
			o.args = append(o.args, rest[i+1:]...)
			return o, nil
		case len(w) < 2 || w[0] != '-' || isNumber(w):
			o.args = append(o.args, w)
			continue
		}
		next := func(name string) (string, error) {
			if i+1 >= len(rest) {
				return "", usagef("Missing argument for option: %s", name)
			}
			i++
			return rest[i], nil
		}
		name := strings.TrimPrefix(w[1:], "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok && len(k) > 1 {
			name, value, hasValue = k, v, true
		}
		if takes, ok := spec.lookup(name); ok {
			switch {
			case takes && !hasValue:
				v, err := next(name)
				if err != nil {
					return o, err
				}
				value = v
			case !takes && hasValue:
				return o, usagef("Option %s takes no value", name)
			}
			o.set[name] = value
			continue
		}
		if hasValue || w[1] == '-' {
			return o, usagef("Unrecognized option: %s", w)
		}
		// A cluster of one-letter options: "-se", "-v3".
		for j := 0; j < len(name); j++ {
			letter := name[j : j+1]
			takes, ok := spec.lookup(letter)
			if !ok {
				return o, usagef("Unrecognized option: %s", w)
			}
			if !takes {
				o.set[letter] = ""
				continue
			}
			if j+1 < len(name) {
				o.set[letter] = name[j+1:]
			} else {
				v, err := next(letter)
				if err != nil {
					return o, err
				}
				o.set[letter] = v
			}
			break
		}
	}
	return o, nil
}

func (spec optSpec) lookup(name string) (takesValue, ok bool) {
	for _, s := range spec {
		if n, v := strings.CutSuffix(s, ":"); n == name {
			return v, true
		}
	}
	return false, false
}

func isNumber(w string) bool {
	_, err := strconv.ParseFloat(w, 64)
	return err == nil
}

// intValue parses the value of option name as a decimal int32, the way
// Integer.parseInt does for -v.
func intValue(o opts, name string, def int32) (int32, error) {
	if !o.has(name) {
		return def, nil
	}
	n, err := strconv.ParseInt(o.value(name), 10, 32)
	if err != nil {
		return 0, usagef("-%s argument must be an int value: %q", name, o.value(name))
	}
	return int32(n), nil
}
