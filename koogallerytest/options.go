package koogallerytest

import "time"

// ClockOption sets a clock. WithClock returns one; it is a ServerOption,
// an OAuthServerOption and a SenderOption, so one Clock can drive the
// fake open API, the fake identity provider and the senders of a test.
type ClockOption interface {
	ServerOption
	OAuthServerOption
	SenderOption
}

// WithClock sets the clock: the time a Server checks X-Sdk-Date and
// lock-outs against, an OAuthServer expires codes and tokens by, or a
// Sender stamps calls from. Give the code under test the same clock (see
// Clock), so that both sides agree on any date. nil means time.Now, the
// default.
func WithClock(now func() time.Time) ClockOption { return clockOption(now) }

type clockOption func() time.Time

func (c clockOption) clock() func() time.Time {
	if c == nil {
		return time.Now
	}
	return c
}

func (c clockOption) applyServer(cfg *serverConfig) { cfg.now = c.clock() }
func (c clockOption) applyOAuth(s *OAuthServer)     { s.now = c.clock() }
func (c clockOption) applySender(s *Sender)         { s.now = c.clock() }

type serverFunc func(*serverConfig)

func (f serverFunc) applyServer(c *serverConfig) { f(c) }

type oauthFunc func(*OAuthServer)

func (f oauthFunc) applyOAuth(s *OAuthServer) { f(s) }

type senderFunc func(*Sender)

func (f senderFunc) applySender(s *Sender) { f(s) }
