// Command gen writes the signature vectors of package vectors into
// testdata/vectors, from the repository's root:
//
//	go run ./internal/vectors/gen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/isvkit/koogallery/internal/vectors"
)

func main() {
	dir := filepath.Join("testdata", "vectors")
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := vectors.Write(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("wrote", dir)
}
