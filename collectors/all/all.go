// Package all holds the registry of every collector type. It is apart from
// package collectors because the types' packages (collectors/aqi, filedrop,
// httpjson) import collectors for Batch, Collector, Deps and Factory.
package all

import (
	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/aqi"
	"github.com/qualitymon/qualitymon/collectors/filedrop"
	"github.com/qualitymon/qualitymon/collectors/httpjson"
)

// Registry maps a collector type (the type: of a collectors: entry) to its
// constructor. Adding a source means adding a package and a line here.
var Registry = map[string]collectors.Factory{
	"aqi":      aqi.New,
	"filedrop": filedrop.New,
	"httpjson": httpjson.New,
}
