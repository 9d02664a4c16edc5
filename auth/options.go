package auth

import "time"

// SignerOption configures NewSigner and NewSignerFrom.
type SignerOption interface{ applySigner(*Signer) error }

// VerifierOption configures NewVerifier.
type VerifierOption interface{ applyVerifier(*Verifier) }

// CacheOption configures NewCredentialsCache.
type CacheOption interface{ applyCache(*CredentialsCache) }

// ClockOption is an option that sets a clock. WithClock returns one, and
// every constructor of this package that keeps time accepts it.
type ClockOption interface {
	SignerOption
	VerifierOption
	CacheOption
}

// WithClock sets the clock: the time a Signer stamps X-Sdk-Date from, a
// Verifier checks X-Sdk-Date against, or a CredentialsCache judges expiry
// by. Tests pin it; hosts with a skewed clock can add a fixed offset. nil
// means time.Now, the default.
func WithClock(now func() time.Time) ClockOption { return clockOption(now) }

type clockOption func() time.Time

func (c clockOption) clock() func() time.Time {
	if c == nil {
		return time.Now
	}
	return c
}

func (c clockOption) applySigner(s *Signer) error     { s.now = c.clock(); return nil }
func (c clockOption) applyVerifier(v *Verifier)       { v.now = c.clock() }
func (c clockOption) applyCache(cc *CredentialsCache) { cc.now = c.clock() }
func (f signerFunc) applySigner(s *Signer) error      { return f(s) }
func (f verifierFunc) applyVerifier(v *Verifier)      { f(v) }
func (f cacheFunc) applyCache(c *CredentialsCache)    { f(c) }

type signerFunc func(*Signer) error
type verifierFunc func(*Verifier)
type cacheFunc func(*CredentialsCache)
