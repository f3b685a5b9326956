// Package storetest opens a store on the tests' InfluxDB (internal/testenv)
// for the tests of any package: on a fresh bucket of the shared server, or
// on a given bucket of a given server, closed when the test ends. The
// store's own internal tests (package store) cannot import it and keep
// their own opener.
package storetest

import (
	"testing"

	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// Open is a store on a fresh bucket of the shared InfluxDB
// (testenv.SharedInflux), closed when the test ends.
func Open(tb testing.TB) *store.Store {
	srv := testenv.SharedInflux(tb)
	return On(tb, srv, srv.NewBucket(tb))
}

// On is a store on bucket of srv, closed when the test ends.
func On(tb testing.TB, srv *testenv.Influx, bucket string) *store.Store {
	st := store.Open(store.Config{URL: srv.URL, Org: srv.Org, Token: srv.Token, Bucket: bucket})
	tb.Cleanup(st.Close)
	return st
}
