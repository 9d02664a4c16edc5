// Package order is KooGallery's order domain for sellers: QueryOrder, the
// open API that returns an order's lines, products and buyer, and (in the
// same package) the handler for KooGallery's order-notification callback,
// after which a seller typically queries the order.
package order
