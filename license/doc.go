// Package license serves KooGallery's License 2.0 production interface: the
// calls KooGallery makes to a seller's server when a licence code is renewed,
// frozen or unfrozen, and released.
//
// NewHandler verifies each call (signature, 60-second freshness window,
// nonce replay), decodes it and dispatches it to a Provider the seller
// implements:
//
//	mux.Handle("/isv/license", license.NewHandler(accessKey, myLicenses))
//
// Result codes follow package saas: 000001 for a call not proven to come from
// KooGallery, 000002 for a malformed one (neither reaches the Provider), the
// code of a ResultError in a Provider error's chain (ErrLicenseNotFound
// 000003, ErrInvalidParameter 000002, NewResultError for others), and 000005
// for any other error or a panic, whose text is logged and never sent.
//
// Open APIs. NewClient wraps a *koogallery.Client for the calls the
// seller's software makes: Activate and ActivateBatch (v1, v2), Heartbeat
// and HeartbeatBatch (查询授权码, v1, v2), ReportSoftwareUsage, and the event
// upload that delivers asynchronous licences (UploadCharacters, and
// UploadFile, which streams a file of any size with bounded memory).
// koogallerytest fakes them, with test licence codes (AddLicenseCode).
package license
