package koogallery

import "fmt"

// Site is a KooGallery site. Every open API has the same paths on every
// site; only the host differs.
type Site int

// The KooGallery sites.
const (
	// SiteChina is the Chinese site, https://mkt.myhuaweicloud.com. When
	// that host cannot be reached the client retries the same request on
	// https://mkt.myhuaweicloud.cn (re-signed for that host), as the
	// KooGallery documentation instructs.
	SiteChina Site = iota
	// SiteInternational is the international site,
	// https://mkt-intl.myhuaweicloud.com.
	SiteInternational
	// SiteEurope is the European site, https://mkt.myhuaweicloud.eu.
	SiteEurope
)

// BaseURL returns the site's primary base URL.
func (s Site) BaseURL() string {
	switch s {
	case SiteChina:
		return "https://mkt.myhuaweicloud.com"
	case SiteInternational:
		return "https://mkt-intl.myhuaweicloud.com"
	case SiteEurope:
		return "https://mkt.myhuaweicloud.eu"
	}
	return ""
}

// FallbackURL returns the base URL tried when the primary host cannot be
// reached, or "" when the site documents none. The international pages
// mention mkt.myhuaweicloud.cn too, but that reads as a copy of the Chinese
// page (not confirmed anywhere else), so no fallback is used there.
func (s Site) FallbackURL() string {
	if s == SiteChina {
		return "https://mkt.myhuaweicloud.cn"
	}
	return ""
}

// String returns the site's name.
func (s Site) String() string {
	switch s {
	case SiteChina:
		return "china"
	case SiteInternational:
		return "international"
	case SiteEurope:
		return "europe"
	}
	return fmt.Sprintf("Site(%d)", int(s))
}
