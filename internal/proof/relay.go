package proof

import (
	"net"
	"sync"
	"time"
)

// relay is a TCP relay on loopback between the replicas and a store
// server, which can black-hole the traffic: during a partition it keeps
// every connection open and accepts new ones, but forwards nothing in
// either direction (what it reads it holds) and dials nothing, as a
// network that drops packets without resetting connections does. When the
// partition heals it delivers what it held, as TCP's retransmissions
// would, to the connections still open.
type relay struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	healed chan struct{} // nil: forwarding; else closed when the partition heals
	conns  map[net.Conn]struct{}
	closed bool
	quit   chan struct{}
	wg     sync.WaitGroup
}

func newRelay(target string) (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, target: target, conns: map[net.Conn]struct{}{}, quit: make(chan struct{})}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

func (r *relay) addr() string { return r.ln.Addr().String() }

// partition starts black-holing.
func (r *relay) partition() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.healed == nil {
		r.healed = make(chan struct{})
	}
}

// heal resumes forwarding.
func (r *relay) heal() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.healed != nil {
		close(r.healed)
		r.healed = nil
	}
}

// pass waits while the relay is partitioned; false: the relay is closing.
func (r *relay) pass() bool {
	r.mu.Lock()
	h := r.healed
	r.mu.Unlock()
	if h == nil {
		return true
	}
	select {
	case <-h:
		return true
	case <-r.quit:
		return false
	}
}

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

func (r *relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			continue
		}
		r.wg.Add(1)
		go r.pipe(c)
	}
}

func (r *relay) pipe(c net.Conn) {
	defer r.wg.Done()
	defer r.untrack(c)
	if !r.pass() { // a connection made during a partition waits for it to heal
		return
	}
	up, err := net.DialTimeout("tcp", r.target, time.Second)
	if err != nil {
		return // the client sees its connection closed
	}
	if !r.track(up) {
		return
	}
	defer r.untrack(up)
	done := make(chan struct{}, 2)
	go func() { r.copy(up, c); done <- struct{}{} }()
	go func() { r.copy(c, up); done <- struct{}{} }()
	<-done // one side closed: close both (the deferred untracks), and let the other copy end
	c.Close()
	up.Close()
	<-done
}

// copy forwards src to dst, holding what it read while partitioned.
func (r *relay) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !r.pass() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close stops the relay and closes every connection.
func (r *relay) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.quit)
	conns := make([]net.Conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	r.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	r.wg.Wait()
}
