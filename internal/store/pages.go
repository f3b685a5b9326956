package store

// Large reads (the engine's evaluation, the reporting grid's figures) go to
// InfluxDB in pages of a few indicators, at most ReadConcurrency queries at
// a time: no query reads everything (at 300,000 targets one query over 3
// million figures ran into the query timeout), and the database never
// serves more than a couple of large reads at once from one qualitymon
// (InfluxDB 1.8 once crashed under many concurrent large Flux queries).
const (
	ReadConcurrency = 2
	// readPages is how many pages the indicators are split into (fewer
	// when there are fewer indicators). Each page is one request, which
	// must be answered whole within the store's request timeout (60 s):
	// at 300,000 targets over 100 indicators, pages of 1/16 (190,000
	// figures each) did not finish in 60 s on a loaded 2-core machine
	// just after an import; pages of 1/64 (one or two indicators, 30,000
	// to 60,000 figures) take a few seconds each, and the per-query cost
	// of Flux is small beside the per-series cost of the read.
	readPages = 64
)

// IndicatorPages splits sorted indicators into the pages of a large read,
// each about 1/64 of them.
func IndicatorPages(inds []string) [][]string {
	var out [][]string
	if size := (len(inds) + readPages - 1) / readPages; size > 0 {
		for i := 0; i < len(inds); i += size {
			out = append(out, inds[i:min(i+size, len(inds))])
		}
	}
	return out
}
