package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Error is one rejected cell.
type Error struct {
	File     string `json:"file"`
	Row      int    `json:"row"`
	Column   string `json:"column"`
	Value    string `json:"value"`
	Message  string `json:"message"`
	Expected string `json:"expected,omitempty"`
	// OutOfScope marks a row the reporter may not report (a region or
	// indicator outside its token's scope): uploads answer 403, not 422.
	OutOfScope bool `json:"-"`
}

// MarshalJSON quotes at most an excerpt of the bad cell.
func (e *Error) MarshalJSON() ([]byte, error) {
	type plain Error
	c := plain(*e)
	c.Value = clip(c.Value)
	return json.Marshal(c)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%s: %s", e.File, e.Row, e.Column, e.Message)
	if e.Expected != "" {
		fmt.Fprintf(&b, " (expected %s)", e.Expected)
	}
	return b.String()
}

// Errors is every problem found in one input; it is an error when non-empty.
type Errors []*Error

func (es Errors) Error() string {
	const show = 20
	var b strings.Builder
	for i, e := range es {
		if i == show {
			fmt.Fprintf(&b, "… and %d more errors", len(es)-show)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns es as an error, or nil when empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
