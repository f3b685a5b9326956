package reporting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/observation"
)

// Receipt records who sent a batch that went live: the bureau, when it was
// submitted and when it was stored (its reported_at), and its keys. The
// grid matches a stored figure to its receipt by key and reported_at.
type Receipt struct {
	ReportedAt  time.Time `json:"reported_at"`
	SubmittedAt time.Time `json:"submitted_at"`
	Bureau      string    `json:"bureau"`
	Origin      string    `json:"origin,omitempty"`
	File        string    `json:"file,omitempty"`
	// Upload and ApprovedBy are set for a batch approved from the review queue.
	Upload     string `json:"upload,omitempty"`
	ApprovedBy string `json:"approved_by,omitempty"`
	// Keys are "indicator|region|period".
	Keys []string `json:"keys"`
}

func keyString(k observation.Key) string {
	return k.Indicator + "|" + k.Region + "|" + k.Period.String()
}

type receiptKey struct {
	key string
	at  int64 // reported_at, Unix seconds (as InfluxDB keeps it)
}

// Receipts is the append-only receipts log (JSON lines; concurrent
// receipts share fsyncs).
type Receipts struct {
	path string
	log  *durable.Log
	mu   sync.Mutex // guards index and read
	// index of what has been read so far, and how far.
	index map[receiptKey]*Receipt
	read  int64
}

// OpenReceipts opens (creating) the log at path.
func OpenReceipts(path string) (*Receipts, error) {
	l, err := durable.OpenLog(path)
	if err != nil {
		return nil, err
	}
	return &Receipts{path: path, log: l, index: map[receiptKey]*Receipt{}}, nil
}

// Close closes the log.
func (r *Receipts) Close() error { return r.log.Close() }

// Record appends a receipt durably.
func (r *Receipts) Record(rc *Receipt) error { return r.log.Append(rc) }

// Lookups reads the lines appended to the log since the last time (once)
// and calls fn with a lookup of the receipt of the figure of a key stored
// at reportedAt, valid during fn. The lookup finds nothing when the log
// cannot be read or r is nil.
func (r *Receipts) Lookups(fn func(lookup func(k observation.Key, reportedAt time.Time) (*Receipt, bool))) {
	none := func(observation.Key, time.Time) (*Receipt, bool) { return nil, false }
	if r == nil {
		fn(none)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.catchUp(); err != nil {
		fn(none)
		return
	}
	fn(func(k observation.Key, reportedAt time.Time) (*Receipt, bool) {
		rc, ok := r.index[receiptKey{keyString(k), reportedAt.Unix()}]
		return rc, ok
	})
}

// catchUp reads the lines appended since the last catch-up.
func (r *Receipts) catchUp() error {
	f, err := os.Open(r.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(r.read, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			r.read += int64(len(line))
			var rc Receipt
			if json.Unmarshal(bytes.TrimSpace(line), &rc) == nil {
				at := rc.ReportedAt.Unix()
				for _, k := range rc.Keys {
					r.index[receiptKey{k, at}] = &rc
				}
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil // a partial last line is read again next time
			}
			return err
		}
	}
}

// Sink returns a sink that hands batches to next and records each one's
// receipt (Meta.Who is the bureau). The receipt is written and fsynced
// while next accepts the batch, not after (one fsync round less for each
// upload), and Accept returns once both are done: an accepted batch has
// its receipt on disk when it is acknowledged. A batch next refuses may
// leave a receipt behind; it names keys at a reported_at that no stored
// figure has, so no lookup finds it. A receipt that cannot be written is
// not an error: the batch is accepted either way, and the figure shows its
// source instead of its bureau.
func (r *Receipts) Sink(next observation.Sink) observation.Sink {
	return sinkFunc(func(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
		if meta.ReportedAt.IsZero() {
			meta.ReportedAt = time.Now() // the receipt and the batch share it
		}
		recorded := make(chan struct{})
		go func() {
			defer close(recorded)
			r.Record(receiptOf(batch, meta, meta.ReportedAt))
		}()
		res, err := next.Accept(ctx, batch, meta)
		<-recorded
		return res, err
	})
}

func receiptOf(batch []observation.Observation, meta observation.Meta, submitted time.Time) *Receipt {
	at := meta.ReportedAt
	if at.IsZero() {
		at = time.Now()
	}
	rc := &Receipt{ReportedAt: at.Truncate(time.Second).UTC(), SubmittedAt: submitted.UTC(), Bureau: meta.Who, Origin: meta.Origin, File: meta.File,
		Keys: make([]string, len(batch))}
	for i := range batch {
		rc.Keys[i] = keyString(batch[i].Key())
	}
	return rc
}

type sinkFunc func(context.Context, []observation.Observation, observation.Meta) (observation.Result, error)

func (f sinkFunc) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	return f(ctx, batch, meta)
}
