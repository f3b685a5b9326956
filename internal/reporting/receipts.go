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
	"github.com/qualitymon/qualitymon/internal/period"
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

// receiptKey is a figure's key and reported_at in the index: the
// indicator, region and period as numbers of receiptIndex's tables (a few
// hundred distinct strings each, held once), so an entry holds no string
// of its own and memory grows by ~40 bytes a key of the log, not by the
// ~190 of a map keyed by the key's text.
type receiptKey struct {
	indicator, region, period uint32
	at                        int64 // reported_at, Unix seconds (as InfluxDB keeps it)
}

// receiptIndex indexes the receipts of the log by key and reported_at.
// The receipts themselves are kept without their keys.
type receiptIndex struct {
	entries    map[receiptKey]uint32 // -> receipts
	receipts   []*Receipt
	indicators map[string]uint32
	regions    map[string]uint32
	periods    map[period.Period]uint32
	periodText map[string]uint32 // a key's period as written, parsed once
}

func newReceiptIndex() *receiptIndex {
	return &receiptIndex{entries: map[receiptKey]uint32{}, indicators: map[string]uint32{},
		regions: map[string]uint32{}, periods: map[period.Period]uint32{}, periodText: map[string]uint32{}}
}

// intern returns the number of s in m, adding it (the map lookup with
// string(b) does not allocate).
func intern(m map[string]uint32, b []byte) uint32 {
	if n, ok := m[string(b)]; ok {
		return n
	}
	n := uint32(len(m))
	m[string(b)] = n
	return n
}

// add indexes the receipt rc (whose Keys are dropped) under the keys of
// keys, the JSON array of its line as Record writes it.
func (x *receiptIndex) add(rc *Receipt, keys []byte) error {
	n := uint32(len(x.receipts))
	x.receipts = append(x.receipts, rc)
	at := rc.ReportedAt.Unix()
	return eachJSONString(keys, func(k []byte) error {
		// indicator|region|period: neither a region nor a period has a "|".
		j := bytes.LastIndexByte(k, '|')
		i := bytes.LastIndexByte(k[:max(j, 0)], '|')
		if i < 0 {
			return nil // not a key: no figure has it
		}
		p, ok := x.periodText[string(k[j+1:])]
		if !ok {
			per, err := period.Parse(string(k[j+1:]))
			if err != nil {
				return nil
			}
			if p, ok = x.periods[per]; !ok {
				p = uint32(len(x.periods))
				x.periods[per] = p
			}
			x.periodText[string(k[j+1:])] = p
		}
		x.entries[receiptKey{intern(x.indicators, k[:i]), intern(x.regions, k[i+1:j]), p, at}] = n
		return nil
	})
}

// lookup returns the receipt of the figure of k stored at reportedAt.
func (x *receiptIndex) lookup(k observation.Key, reportedAt time.Time) (*Receipt, bool) {
	ind, ok1 := x.indicators[k.Indicator]
	reg, ok2 := x.regions[k.Region]
	per, ok3 := x.periods[k.Period]
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	n, ok := x.entries[receiptKey{ind, reg, per, reportedAt.Unix()}]
	if !ok {
		return nil, false
	}
	return x.receipts[n], true
}

// eachJSONString calls fn with the content of each string of the JSON
// array arr (valid JSON, as json.Unmarshal hands it to an Unmarshaler):
// as it is when it has no escape, else unquoted.
func eachJSONString(arr []byte, fn func([]byte) error) error {
	arr = bytes.TrimSpace(arr)
	if bytes.Equal(arr, []byte("null")) {
		return nil
	}
	if len(arr) < 2 || arr[0] != '[' {
		return fmt.Errorf("receipt keys: want an array, got %q", arr[:min(len(arr), 20)])
	}
	i := 1
	for i < len(arr) {
		c := arr[i]
		if c != '"' {
			i++ // whitespace, commas, the closing bracket
			continue
		}
		j, escaped := i+1, false
		for j < len(arr) && arr[j] != '"' {
			if arr[j] == '\\' {
				escaped = true
				j++
			}
			j++
		}
		if j >= len(arr) {
			return fmt.Errorf("receipt keys: unterminated string")
		}
		s := arr[i+1 : j]
		if escaped {
			var u string
			if err := json.Unmarshal(arr[i:j+1], &u); err != nil {
				return fmt.Errorf("receipt keys: %w", err)
			}
			s = []byte(u)
		}
		if err := fn(s); err != nil {
			return err
		}
		i = j + 1
	}
	return nil
}

// receiptLine decodes a line of the log: the receipt, and its keys
// straight into the index (a line may hold hundreds of thousands of keys:
// no string is made for each).
type receiptLine struct {
	Receipt
	Keys keysFunc `json:"keys"`
}

// keysFunc hands the JSON array of a line's keys to its function, if any,
// during the decoding (the bytes are not kept).
type keysFunc func([]byte) error

func (f keysFunc) UnmarshalJSON(b []byte) error {
	if f == nil {
		return nil
	}
	return f(b)
}

// Receipts is the append-only receipts log (JSON lines; concurrent
// receipts share fsyncs).
type Receipts struct {
	path string
	log  *durable.Log
	mu   sync.Mutex // guards index and read
	// index of what has been read so far, and how far.
	index *receiptIndex
	read  int64
}

// OpenReceipts opens (creating) the log at path.
func OpenReceipts(path string) (*Receipts, error) {
	l, err := durable.OpenLog(path)
	if err != nil {
		return nil, err
	}
	return &Receipts{path: path, log: l, index: newReceiptIndex()}, nil
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
	fn(r.index.lookup)
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
	br := bufio.NewReaderSize(f, 64<<10)
	var line []byte // one buffer for every line
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			r.read += int64(len(line))
			// Decoded twice: the receipt first, then its keys with
			// the receipt's reported_at at hand.
			var rl receiptLine
			if json.Unmarshal(bytes.TrimSpace(line), &rl) == nil {
				rc := rl.Receipt
				rc.Keys = nil
				rl.Keys = func(keys []byte) error { return r.index.add(&rc, keys) }
				json.Unmarshal(bytes.TrimSpace(line), &rl)
			}
			line = line[:0]
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
