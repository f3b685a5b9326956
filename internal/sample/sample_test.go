package sample

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

// The committed sample file is what Generate makes, valid for the importer,
// and exercises every plan and every status.
func TestSampleFile(t *testing.T) {
	set := testenv.Plans(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, Generate(set, Through)); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../sample/observations.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, buf.Bytes()) {
		t.Fatal("sample/observations.csv is out of date: run go run ./cmd/qualitymon sample > sample/observations.csv")
	}
	v := &ingest.Validator{Catalog: set.Catalog, Regions: set.Regions, Now: time.Now}
	src, err := ingest.NewCSV("sample/observations.csv", bytes.NewReader(committed))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := v.ReadAll(src)
	if err != nil {
		t.Fatal(err)
	}
	stored := make([]observation.Stored, len(rows))
	for i, o := range rows {
		stored[i] = observation.Stored{Observation: o}
	}
	e := &evaluate.Evaluator{Set: set}
	data := evaluate.NewData(stored)
	// While the 2018 plans ran (end of 2019), and after every deadline.
	evals := append(e.Evaluate(data, "", time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)),
		e.Evaluate(data, "", time.Date(Through+1, 11, 1, 0, 0, 0, 0, time.UTC))...)
	statuses := map[evaluate.Status]int{}
	plans := map[string]int{}
	for _, ev := range evals {
		statuses[ev.Status]++
		if ev.Status != evaluate.NoData {
			plans[ev.Plan]++
		}
	}
	for _, s := range evaluate.Statuses {
		if statuses[s] == 0 {
			t.Errorf("no target is %s in the sample", s)
		}
	}
	for _, p := range set.Plans {
		if plans[p.Key] == 0 {
			t.Errorf("plan %s has no data in the sample", p.Key)
		}
	}
	t.Logf("%d rows; statuses %v", len(rows), statuses)
}
