package bulk

import (
	"fmt"
	"io"
	"time"
)

// progress prints a status line for files that take a while: the phase,
// rows, rows per second and the share done. It writes nothing during the
// first second, so small files stay quiet.
type progress struct {
	w       io.Writer
	file    string
	name    string
	amount  func() (done, total int64)
	start   time.Time
	last    time.Time
	printed bool
}

func newProgress(w io.Writer, file string) *progress {
	return &progress{w: w, file: file}
}

func (p *progress) phase(name string, amount func() (done, total int64)) {
	if p.w == nil {
		return
	}
	p.name, p.amount, p.start = name, amount, time.Now()
}

func (p *progress) tick(rows int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(rows) / now.Sub(p.start).Seconds()
	pct := ""
	if done, total := p.amount(); total > 0 {
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(done)/float64(total))
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %s%s, %d rows, %.0f rows/s\r", p.file, p.name, pct, rows, rate)
	p.printed = true
}

// done clears the status line.
func (p *progress) done() {
	if p.w != nil && p.printed {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
