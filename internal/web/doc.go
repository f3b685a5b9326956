// Package web is qualitymon's own scorecard, 质量目标看板, served by
// `qualitymon serve` beside /metrics: the plans overview (/), a plan's
// scorecard (/plans/{plan}), a target's page with its chart, quote, agencies,
// status history and figures (/plans/{plan}/targets/{target}), one indicator
// across regions (/indicators/{indicator}), exports (/export/status.csv,
// /export/status.xlsx) and the 质量状况分析报告 (/report/{plan}, also written
// by `qualitymon report`).
//
// A page without ?at= or ?known_at= shows serve's latest evaluation; one
// with them (and qualitymon report) is evaluated by engine.Load (as of
// ?at=, with the figures known at ?known_at=). Either way the pages pick
// their rows through an index built once per evaluation (index.go: by
// plan, indicator, target, status and the region tree), 200 rows a page,
// and render them with html/template; charts are
// SVG drawn on the server (chart.go), so the pages need no script, no font
// file and nothing from another machine. Responses carry a strict
// Content-Security-Policy (no inline script or style); the one script,
// shell/static/site.js, only submits filter forms on change. With web.auth
// users configured, every page asks for HTTP basic authentication.
//
// The page chrome (stylesheet, script, icon, CSP, error page, rendering,
// Chinese formatting) is internal/web/shell, shared with the bureaus'
// workspace (internal/workspace). The browser tests (browser_test.go, e2e/)
// drive both applications in qualitymon serve.
package web
