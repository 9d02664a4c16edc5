// Package koogallery is the Go SDK for sellers (ISVs) on Huawei Cloud
// KooGallery (云商店).
//
// It serves both directions of a seller's integration:
//
//   - Seller → KooGallery open APIs, signed with Huawei API Gateway AK/SK
//     (SDK-HMAC-SHA256, see package auth): query orders, push pay-per-use
//     usage, activate and query license codes, upload event files.
//   - KooGallery → seller production interfaces (callbacks): verified
//     http.Handlers for the SaaS, license and order-notification families.
package koogallery
