// Package access decides who may use what serve answers. Routes are of a
// Class: Public (the probes, the static assets), OwnAuth (the bureaus'
// workspace and the upload API, which check the bureau's token themselves)
// or Protected (everything else, the default): with web.auth users
// configured, a protected route asks for HTTP basic authentication, checked
// against bcrypt hashes (Users). A failed sign-in, of a web user or of a
// bureau's token, costs time (Throttle), counted per account and client
// address and per client address, where the client address is the
// connecting one, or X-Forwarded-For's when the connection comes from a
// trusted proxy (Proxies).
package access
