// Package koogallerytest lets sellers test their KooGallery integration
// without an account: a fake KooGallery open API that verifies AK/SK exactly
// as the API gateway does, serves the documented mock orders and injects
// faults; and a sender of genuinely signed production-interface callbacks
// for testing the seller's own handlers end to end.
package koogallerytest
