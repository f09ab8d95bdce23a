package config

import (
	"reflect"
	"strings"

	"github.com/coldmove/coldmove/secret"
)

// Var is one environment variable and the field it sets.
type Var struct {
	// Name is the variable's name, e.g. NATS_URL.
	Name string
	// Desc says what it means, for -h.
	Desc string
	// Required variables must be set (an empty value is then judged by
	// Check).
	Required bool
	// Value points at the field the variable sets. What the field holds
	// before [Load] is the default.
	Value any
	// Check, when set, judges the value read (or the default) and returns
	// what is wrong with it in words that follow the variable's name, or
	// "" when it is fine.
	Check func() string
}

// secret reports whether the value must never be repeated: a field of type
// [secret.String].
func (v Var) secret() bool {
	_, ok := v.Value.(*secret.String)
	return ok
}

// Spec is the configuration of one binary: the variables it reads, in the
// order -h lists them, and checks that span several of them.
type Spec struct {
	Vars []Var
	// Checks run once every variable is read; each returns the problems
	// it finds.
	Checks []func() []Problem
}

// Add returns s with more variables and checks.
func (s Spec) Add(o Spec) Spec {
	return Spec{Vars: append(append([]Var{}, s.Vars...), o.Vars...), Checks: append(append([]func() []Problem{}, s.Checks...), o.Checks...)}
}

// Names lists the variables of s.
func (s Spec) Names() []string {
	out := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		out[i] = v.Name
	}
	return out
}

// Problem is one variable that is missing, malformed or out of range.
type Problem struct {
	// Var is the environment variable's name.
	Var string
	// Problem says what is wrong with it.
	Problem string
}

// Error lists every problem found in the environment.
type Error struct {
	Problems []Problem
}

// Error names every variable and its problem, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Var)
		b.WriteString(": ")
		b.WriteString(p.Problem)
	}
	return b.String()
}

// typeName names the type of a variable's value in a problem.
func typeName(t reflect.Type) string {
	switch t.String() {
	case "time.Duration":
		return "a duration (for example 90s or 30m)"
	case "[]time.Duration":
		return "durations separated by commas (for example 30s,1m,5m)"
	case "slog.Level":
		return "a log level (debug, info, warn or error)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return t.String()
}
