package events

import (
	"cmp"
	"slices"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// A Problem is one thing wrong with one field of an event or payload.
type Problem struct {
	// Field names the attribute or payload field, with dots for nesting
	// (for example "target.dedicated_host_id"), or "data" for the payload as
	// a whole.
	Field string `json:"field"`
	// Problem says what is wrong, in words a person can act on.
	Problem string `json:"problem"`
}

// ValidationError lists every problem found in a payload or an event.
// Validate methods return it, never a partial list.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, field by field, in field order.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Problem)
	}
	return b.String()
}

// Fields returns the problems as a map of field to problem; a field with
// several problems has them joined by "; ".
func (e *ValidationError) Fields() map[string]string {
	m := make(map[string]string, len(e.Problems))
	for _, p := range e.Problems {
		if prev, ok := m[p.Field]; ok {
			m[p.Field] = prev + "; " + p.Problem
			continue
		}
		m[p.Field] = p.Problem
	}
	return m
}

// problems collects field problems; its zero value is ready to use.
type problems []Problem

func (ps *problems) add(field, problem string) {
	*ps = append(*ps, Problem{Field: field, Problem: problem})
}

// id adds a problem for field unless value follows the rule of kind.
func (ps *problems) id(field string, kind ids.Kind, value string) {
	if !kind.Valid(value) {
		ps.add(field, "must be "+kind.Rule())
	}
}

// covers reports whether a problem is already recorded for field, for a
// field inside it, or for a field it is inside.
func (ps problems) covers(field string) bool {
	for _, p := range ps {
		if p.Field == field || strings.HasPrefix(field, p.Field+".") || strings.HasPrefix(p.Field, field+".") {
			return true
		}
	}
	return false
}

// err returns nil when nothing was found, else a *ValidationError with the
// problems sorted by field (stable, so a field's problems keep their order).
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone([]Problem(ps))
	slices.SortStableFunc(out, func(a, b Problem) int { return cmp.Compare(a.Field, b.Field) })
	return &ValidationError{Problems: out}
}
