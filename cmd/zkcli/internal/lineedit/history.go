package lineedit

import (
	"bufio"
	"os"
	"strings"
)

// historyMax is how many lines the history keeps.
const historyMax = 1000

// history is the line editor's history, oldest first, persisted one line
// a line. Each new line is appended to the file at once, so programs
// sharing the file interleave their lines instead of overwriting each
// other's.
type history struct {
	path    string
	entries []string
}

// loadHistory reads the history file, keeping its last historyMax lines and
// compacting it when it has grown to twice that. Problems with the file
// only disable persistence.
func loadHistory(path string) *history {
	h := &history{path: path}
	if path == "" {
		return h
	}
	f, err := os.Open(path)
	if err != nil {
		return h
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			h.entries = append(h.entries, line)
		}
	}
	if len(h.entries) > 2*historyMax {
		h.entries = h.entries[len(h.entries)-historyMax:]
		h.rewrite()
	} else if len(h.entries) > historyMax {
		h.entries = h.entries[len(h.entries)-historyMax:]
	}
	return h
}

// rewrite replaces the file with the entries kept, atomically.
func (h *history) rewrite() {
	tmp := h.path + ".tmp"
	data := strings.Join(h.entries, "\n") + "\n"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, h.path); err != nil {
		_ = os.Remove(tmp) // best effort: the old file is still whole
	}
}

// add records a line, unless it is blank or repeats the last one.
func (h *history) add(line string) {
	if strings.TrimSpace(line) == "" || strings.ContainsAny(line, "\r\n") {
		return
	}
	if n := len(h.entries); n > 0 && h.entries[n-1] == line {
		return
	}
	h.entries = append(h.entries, line)
	if len(h.entries) > historyMax {
		h.entries = h.entries[1:]
	}
	if h.path == "" {
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	_, werr := f.WriteString(line + "\n")
	if err := f.Close(); err != nil || werr != nil {
		h.path = "" // stop trying on a file that does not take writes
	}
}

// newest returns the entry i steps back from the newest (0 is the newest).
func (h *history) newest(i int) (string, bool) {
	if i < 0 || i >= len(h.entries) {
		return "", false
	}
	return h.entries[len(h.entries)-1-i], true
}
