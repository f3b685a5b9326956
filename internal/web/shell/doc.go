// Package shell is the page chrome that qualitymon's two web applications
// share: the scorecard (internal/web) and the bureaus' workspace
// (internal/workspace). It holds the one stylesheet, script and icon
// (static/, served once by [Register] under /static/ and /favicon.ico, for
// everyone), the <head> assets and the error page (templates/shell.html),
// the security headers of every response ([CSP], [Secure]), the rendering of
// a page into a buffer before it is sent ([Templates]), the errors a person
// sees with their status ([Error]) and the Chinese formatting of figures,
// units and dates ([Funcs], format.go).
//
// An application parses its own templates with [Parse], which adds the
// shared ones and the formatting functions; its pages start with
// {{template "assets"}} in their <head>.
package shell
