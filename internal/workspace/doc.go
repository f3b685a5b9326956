// Package workspace is the statistics bureaus' 报送工作台, served by
// `qualitymon serve` beside the scorecard (internal/web): /bureau (sign in
// with the upload token, what is due, the template, check then submit) and
// /review (a reviewer approves or returns held uploads).
//
// Files from the browser go through the upload API's handler
// (*upload.Handler), so that they are checked, scoped, limited, archived,
// audited and stored exactly as POST /api/v1/uploads would; the due grid
// and the template come from *reporting.Grid, the review from
// *reporting.Queue. The pages share the scorecard's chrome (internal/web/shell:
// stylesheet, CSP, error page, formatting) and register on the same mux;
// the workspace has its own sign-in (the token), so web.auth's basic
// authentication does not apply (its routes are access.OwnAuth).
//
// # Sessions
//
// A bureau signs in with its upload token and gets a random session id in a
// cookie (HttpOnly, SameSite=Strict, Secure under TLS). The server keeps the
// session: the SHA-256 of the token, never the token, and a per-session CSRF
// token every form carries. Every request checks the session against the
// current token set, so a token removed from uploads.tokens ends its
// sessions. Wrong tokens are slowed down per token and client address
// (access.Throttle).
//
// # Checked files
//
// A session keeps no file: a cleanly checked file (校验) waits for 提交 on
// disk (Deps.Dir, serve: uploads.review_dir/checked), the session holding
// its id, and the full list of a file's errors waits there as CSV for
// download (checkedDir); both go after CheckedExpiry. The page of a check
// is bounded whatever the file (shownErrors, shownKinds, shownRows).
package workspace
