package server

import (
	"maps"
	"net/http"
	"sync"

	"github.com/qualitymon/qualitymon/internal/access"
)

// Mux is serve's ServeMux that knows the access class of every route
// registered on it: Handle registers a protected route (the default), As
// gives a Router whose routes are of another class. A request whose path
// matches no route is protected too, so that a route cannot be left open by
// forgetting it. Routes lists them all, for the test that tries each.
type Mux struct {
	mux *http.ServeMux

	mu      sync.RWMutex
	classes map[string]access.Class // pattern → class
}

var _ access.Router = (*Mux)(nil)

// NewMux makes an empty Mux.
func NewMux() *Mux { return &Mux{mux: http.NewServeMux(), classes: map[string]access.Class{}} }

// Handle registers a protected route.
func (m *Mux) Handle(pattern string, h http.Handler) { m.handle(access.Protected, pattern, h) }

// HandleFunc registers a protected route.
func (m *Mux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

func (m *Mux) handle(c access.Class, pattern string, h http.Handler) {
	m.mux.Handle(pattern, h)
	m.mu.Lock()
	m.classes[pattern] = c
	m.mu.Unlock()
}

// As is a Router that registers routes of class c.
func (m *Mux) As(c access.Class) access.Router { return classed{m, c} }

type classed struct {
	m *Mux
	c access.Class
}

func (r classed) Handle(pattern string, h http.Handler) { r.m.handle(r.c, pattern, h) }

// SetClass changes the class of a registered route.
func (m *Mux) SetClass(pattern string, c access.Class) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.classes[pattern]; ok {
		m.classes[pattern] = c
	}
}

// Class is the class of the route r goes to (Protected when none).
func (m *Mux) Class(r *http.Request) access.Class {
	_, pattern := m.mux.Handler(r)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.classes[pattern]; ok {
		return c
	}
	return access.Protected
}

// Routes are the registered patterns and their classes.
func (m *Mux) Routes() map[string]access.Class {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return maps.Clone(m.classes)
}

// ServeHTTP serves a request without access control (Server.Handler adds it).
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }
