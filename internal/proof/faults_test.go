package proof

import (
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer echoes every connection back.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// The relay forwards; partitioned, it holds what it reads and answers
// nothing, without closing the connection, and accepts new connections
// without forwarding them; healed, it delivers what it held.
func TestRelayBlackHolesAndHeals(t *testing.T) {
	r, err := newRelay(echoServer(t))
	require.NoError(t, err)
	defer r.close()
	c, err := net.Dial("tcp", r.addr())
	require.NoError(t, err)
	defer c.Close()
	buf := make([]byte, 64)
	read := func(c net.Conn, wait time.Duration) (string, error) {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(wait)))
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	_, err = c.Write([]byte("one"))
	require.NoError(t, err)
	got, err := read(c, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "one", got)

	r.partition()
	_, err = c.Write([]byte("two"))
	require.NoError(t, err)
	_, err = read(c, 300*time.Millisecond)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "nothing answered, nothing closed")
	late, err := net.Dial("tcp", r.addr())
	require.NoError(t, err, "a new connection is accepted")
	defer late.Close()
	_, err = late.Write([]byte("three"))
	require.NoError(t, err)
	_, err = read(late, 300*time.Millisecond)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)

	r.heal()
	got, err = read(c, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "two", got, "what was held is delivered")
	got, err = read(late, 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "three", got)
}

// A fault's probe breaks the invariants when the handler lost what it had
// acknowledged, unless the fault is the Redis without persistence, whose
// losses are reported, not hidden; a call left hanging breaks them always.
func TestFaultReportFailures(t *testing.T) {
	lost := func(lossy bool) *FaultReport {
		return &FaultReport{Name: "f", Lossy: lossy, During: map[string]int{"000005": 3}, After: map[string]int{"000000": 3},
			Probe: &Probe{Witnesses: probeSize, ReSent: 5, SameID: 5, Ran: 5, Replays: 5, ReplaysAccepted: 5, V1Replays: 5, V1ReRan: 5,
				Down: 5, DownAnswered: 5}}
	}
	assert.Empty(t, lost(true).failures())
	f := lost(false).failures()
	assert.Len(t, f, 3)
	assert.Contains(t, strings.Join(f, "\n"), "lost their nonces")

	hung := lost(true)
	hung.During["timeout"] = 1
	hung.Probe.SameID = 4
	f = hung.failures()
	assert.Len(t, f, 2)
	assert.Contains(t, strings.Join(f, "\n"), "not answered within KooGallery's 5s")
	assert.Contains(t, strings.Join(f, "\n"), "4 of 5 re-sent newInstance answered with the witness's instance")
}
