package reporting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
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

// Record appends a receipt durably, with the keys of batch (when rc has
// none): the line is built in one buffer sized for it, without a string per
// key (a batch may have hundreds of thousands of rows).
func (r *Receipts) Record(rc *Receipt, batch []observation.Observation) error {
	if len(rc.Keys) > 0 || len(batch) == 0 {
		return r.log.Append(rc)
	}
	line, err := appendReceipt(nil, rc, batch)
	if err != nil {
		return err
	}
	return r.log.AppendLine(line)
}

// appendReceipt appends to buf the JSON line of rc with the keys of batch
// ("indicator|region|period", as keyString), as json.Marshal would write it.
func appendReceipt(buf []byte, rc *Receipt, batch []observation.Observation) ([]byte, error) {
	head := *rc
	head.Keys = []string{}
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, err
	}
	// Keys is the last field: b ends with "[]}".
	if !bytes.HasSuffix(b, []byte("[]}")) {
		return nil, fmt.Errorf("receipt encodes as %q", b[max(0, len(b)-20):])
	}
	b = b[:len(b)-2]
	n := len(buf) + len(b) + 3
	for i := range batch {
		n += len(batch[i].Indicator) + len(batch[i].Region) + 16
	}
	buf = slices.Grow(buf, n)
	buf = append(buf, b...)
	var key []byte
	for i := range batch {
		if i > 0 {
			buf = append(buf, ',')
		}
		o := &batch[i]
		key = append(append(append(append(key[:0], o.Indicator...), '|'), o.Region...), '|')
		key = append(key, o.Period.String()...)
		if plainJSON(key) {
			buf = append(append(append(buf, '"'), key...), '"')
		} else {
			q, _ := json.Marshal(string(key))
			buf = append(buf, q...)
		}
	}
	return append(buf, "]}\n"...), nil
}

// plainJSON reports whether b is a JSON string's content as it is: printable
// ASCII without quote, backslash or the characters json.Marshal escapes
// for HTML.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

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
			r.Record(receiptOf(meta, meta.ReportedAt), batch)
		}()
		res, err := next.Accept(ctx, batch, meta)
		<-recorded
		return res, err
	})
}

// receiptOf is the receipt of a batch of meta, without its keys (Record
// adds them).
func receiptOf(meta observation.Meta, submitted time.Time) *Receipt {
	at := meta.ReportedAt
	if at.IsZero() {
		at = time.Now()
	}
	return &Receipt{ReportedAt: at.Truncate(time.Second).UTC(), SubmittedAt: submitted.UTC(), Bureau: meta.Who, Origin: meta.Origin, File: meta.File}
}

type sinkFunc func(context.Context, []observation.Observation, observation.Meta) (observation.Result, error)

func (f sinkFunc) Accept(ctx context.Context, batch []observation.Observation, meta observation.Meta) (observation.Result, error) {
	return f(ctx, batch, meta)
}
