package collectors

import (
	"github.com/qualitymon/qualitymon/collectors/aqi"
	"github.com/qualitymon/qualitymon/collectors/filedrop"
	"github.com/qualitymon/qualitymon/collectors/httpjson"
)

// Registry maps a collector type (the type: of a collectors: entry) to its
// constructor. Adding a source means adding a package and a line here.
var Registry = map[string]Factory{
	"aqi":      aqi.New,
	"filedrop": filedrop.New,
	"httpjson": httpjson.New,
}
