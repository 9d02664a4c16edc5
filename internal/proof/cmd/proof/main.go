// Command proof runs the exactly-once proof: KooGallery played against
// three seller replicas behind a round-robin proxy, sharing Redis, then
// PostgreSQL, after a baseline on one replica with the memory stores. It
// prints what every run found and exits 1 if an invariant broke.
//
//	cd internal/proof && go run ./cmd/proof          # the short run (about 2,000 callbacks per backend)
//	cd internal/proof && go run ./cmd/proof -full    # over 20,000 callbacks per backend
//	cd internal/proof && go run ./cmd/proof -backends memory,postgres -faults partition
//
// -faults chooses the store faults instead of the run's (see
// proof.Config.StoreFaults); a fault that does not apply to a backend is
// left out of its run.
//
// It needs redis-server and PostgreSQL's initdb and postgres (Debian:
// apt-get install -y redis-server postgresql), starts them on free
// loopback ports and stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/isvkit/koogallery/internal/proof"
)

func main() {
	proof.MaybeReplica()
	full := flag.Bool("full", false, "the full run: over 20,000 callbacks per backend")
	backends := flag.String("backends", "memory,redis,postgres", "comma-separated backends to run, in order; the first is the baseline")
	logs := flag.String("logs", "", "keep the replicas' logs in this directory (one subdirectory per backend)")
	faults := flag.String("faults", "", "comma-separated store faults to inject instead of the run's (redis-restart-volatile, "+
		"redis-restart-aof, redis-oom, postgres-kill, partition), or \"none\"")
	flag.Parse()
	var reports []*proof.Report
	failed := false
	for _, b := range strings.Split(*backends, ",") {
		cfg := proof.Short(b)
		if *full {
			cfg = proof.Full(b)
		}
		if *faults == "none" {
			cfg.StoreFaults = nil
		} else if *faults != "" && b != proof.Memory {
			cfg.StoreFaults = nil
			for _, f := range strings.Split(*faults, ",") {
				if (f == proof.FaultPostgresKill) == (b == proof.Postgres) || f == proof.FaultPartition {
					cfg.StoreFaults = append(cfg.StoreFaults, f)
				}
			}
		}
		if *logs != "" {
			cfg.LogDir = filepath.Join(*logs, b)
		}
		cfg.Progress = func(s string) { fmt.Fprintf(os.Stderr, "proof %s: %s\n", b, s) }
		rep, err := proof.Run(context.Background(), cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "proof %s: %v\n", b, err)
			os.Exit(2)
		}
		rep.Write(os.Stdout)
		fmt.Println()
		failed = failed || len(rep.Failures()) > 0
		reports = append(reports, rep)
	}
	proof.Compare(os.Stdout, reports)
	proof.Machine(os.Stdout)
	if failed {
		os.Exit(1)
	}
}
