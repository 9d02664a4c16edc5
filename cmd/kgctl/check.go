package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// check is the outcome of one probe or callback check.
type check struct {
	Name       string `json:"name"`
	Activity   string `json:"activity,omitempty"`
	Pass       bool   `json:"pass"`
	Skipped    bool   `json:"skipped,omitempty"`
	ResultCode string `json:"resultCode,omitempty"`
	DurationMS int64  `json:"durationMs"`
	Reason     string `json:"reason,omitempty"`
	Hint       string `json:"hint,omitempty"`
}

func quoteMsg(m string) string {
	if m == "" {
		return ""
	}
	return fmt.Sprintf("(%q)", m)
}

func printChecks(w io.Writer, checks []check) (failed int) {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	for _, c := range checks {
		status := "PASS"
		switch {
		case c.Skipped:
			status = "SKIP"
		case !c.Pass:
			status = "FAIL"
			failed++
		}
		code := c.ResultCode
		if code == "" {
			code = "------"
		}
		fmt.Fprintf(w, "%s  %-*s  %s  %5dms", status, width, c.Name, code, c.DurationMS)
		if c.Reason != "" {
			fmt.Fprintf(w, "  %s", c.Reason)
		}
		fmt.Fprintln(w)
		if c.Hint != "" && !c.Pass && !c.Skipped {
			fmt.Fprintf(w, "      fix: %s\n", c.Hint)
		}
	}
	return failed
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
