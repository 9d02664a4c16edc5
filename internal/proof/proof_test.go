package proof

import (
	"bytes"
	"context"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	full = flag.Bool("proof.full", false, "run the full proof: over 20,000 callbacks per backend")
	out  = flag.String("proof.out", "", "also write the proof's reports to this file")
)

// TestMain lets the test binary run as a replica: the driver starts its
// replicas by running it again.
func TestMain(m *testing.M) {
	MaybeReplica()
	os.Exit(m.Run())
}

// The proof: the memory baseline, then three replicas on Redis, then on
// PostgreSQL. -proof.full runs the full size.
func TestProof(t *testing.T) {
	var reports []*Report
	var all bytes.Buffer
	for _, b := range []string{Memory, Redis, Postgres} {
		cfg := Short(b)
		if *full {
			cfg = Full(b)
		}
		cfg.Progress = func(s string) { t.Logf("%s: %s", b, s) }
		rep, err := Run(context.Background(), cfg)
		require.NoError(t, err, b)
		var buf bytes.Buffer
		rep.Write(&buf)
		t.Log("\n" + buf.String())
		all.Write(buf.Bytes())
		all.WriteByte('\n')
		assert.Empty(t, rep.Failures(), b)
		reports = append(reports, rep)
	}
	var cmp bytes.Buffer
	Compare(&cmp, reports)
	Machine(&cmp)
	t.Log("\n" + cmp.String())
	all.Write(cmp.Bytes())
	if *out != "" {
		require.NoError(t, os.WriteFile(*out, all.Bytes(), 0o644))
	}
}

// The checks bite: replicas that do not share their state (each its own
// memory stores, the ledger still shared in Redis) provision twice and
// accept replays, and the proof says so.
func TestProofCatchesReplicasThatShareNothing(t *testing.T) {
	cfg := Short(Redis)
	cfg.HandlerStore = Memory
	cfg.Lifecycles, cfg.StormSize, cfg.Faults = 36, 300, false
	rep, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	var buf bytes.Buffer
	rep.Write(&buf)
	t.Log("\n" + buf.String())
	assert.NotEmpty(t, rep.Dump.Duplicates, "duplicate provisions found")
	assert.Positive(t, rep.Counts.ReplaysAccepted, "V2 replays to another replica accepted")
	assert.NotEmpty(t, rep.Dump.ReRuns, "V1 replays to another replica ran the seller's code again")
	assert.Zero(t, rep.Counts.AttacksAccepted, "forgeries are refused whatever the store")
	assert.Empty(t, rep.Leaked)
	f := rep.Failures()
	assert.NotEmpty(t, f)
	assert.Contains(t, buf.String(), "INVARIANTS BROKEN")
}
