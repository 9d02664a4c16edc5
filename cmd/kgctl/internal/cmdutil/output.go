package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// ReadArg reads a flag value that may name a file with @file.
func ReadArg(v string) ([]byte, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, RunErr(fmt.Errorf("read %s: %w", name, err))
		}
		return b, nil
	}
	return []byte(v), nil
}

// WriteJSON writes v indented, without HTML escaping.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// PrintHeader writes h sorted by name, each line after prefix.
func PrintHeader(w io.Writer, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, k, v)
		}
	}
}

// ExactArgs is cobra.ExactArgs with kgctl's usage error and message.
func ExactArgs(n int, format string, a ...any) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return UsageErr(format, a...)
		}
		return nil
	}
}
