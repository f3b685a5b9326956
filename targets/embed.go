// Package targets embeds the plan, catalogue and region data of this
// directory into the qualitymon binary. The data itself is documented in
// SCHEMA.md and README.md; internal/plan loads and validates it.
package targets

import "embed"

// FS holds regions.yaml with regions-county.tsv, catalogue/*.yaml and one
// <plan>.yaml per plan.
//
//go:embed *.yaml regions-county.tsv catalogue/*.yaml
var FS embed.FS

// Dir is the directory within FS that plan.LoadDir reads.
const Dir = "."
