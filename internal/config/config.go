package config

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"
)

// Problem is one variable that is missing or malformed.
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

// Checker is a specification that can also check its values once they
// are read (ranges, formats, combinations); Load calls Check and adds its
// problems to the parse problems.
type Checker interface {
	Check() []Problem
}

// Load fills spec, a pointer to a struct, from the environment. Each field
// is read by envconfig on its own, so that every missing or malformed
// variable is reported in one *[Error]; spec's Check, when it has one, adds
// the problems of values. Fields whose variables are unset keep their
// defaults (the default tag) or their zero value.
func Load(spec any) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: spec must be a pointer to a struct, not %T", spec)
	}
	var ps []Problem
	load(v.Elem(), &ps)
	if c, ok := spec.(Checker); ok && len(ps) == 0 {
		ps = append(ps, c.Check()...)
	}
	if len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

func load(s reflect.Value, ps *[]Problem) {
	t := s.Type()
	for i := range t.NumField() {
		f, sf := s.Field(i), t.Field(i)
		if !sf.IsExported() || sf.Tag.Get("ignored") == "true" {
			continue
		}
		if sf.Anonymous && f.Kind() == reflect.Struct {
			load(f, ps)
			continue
		}
		// A struct holding just this field, with its tags, read by
		// envconfig: its error concerns this variable alone.
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: sf.Name, Type: sf.Type, Tag: sf.Tag}}))
		err := envconfig.Process("", one.Interface())
		if err != nil {
			*ps = append(*ps, problemOf(sf, err))
			continue
		}
		f.Set(one.Elem().Field(0))
	}
}

func problemOf(sf reflect.StructField, err error) Problem {
	name := VarName(sf)
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("cannot read as %s", typeName(sf.Type))
		if sf.Tag.Get("secret") != "true" {
			msg = fmt.Sprintf("cannot read %q as %s", pe.Value, typeName(sf.Type))
		}
		return Problem{Var: name, Problem: msg}
	}
	if strings.Contains(err.Error(), "missing value") {
		return Problem{Var: name, Problem: "is required but not set"}
	}
	return Problem{Var: name, Problem: err.Error()}
}

func typeName(t reflect.Type) string {
	switch t.String() {
	case "time.Duration":
		return "a duration (for example 90s or 30m)"
	case "bool":
		return "a boolean (true or false)"
	case "int", "int64", "int32":
		return "an integer"
	case "float64", "float32":
		return "a number"
	}
	return t.String()
}

// VarName returns the environment variable a field is read from: its
// envconfig tag, else its upper-cased name.
func VarName(sf reflect.StructField) string {
	if n := sf.Tag.Get("envconfig"); n != "" {
		return strings.ToUpper(n)
	}
	return strings.ToUpper(sf.Name)
}

// Usage writes envconfig's table of the variables of spec: name, type,
// default, required and description.
func Usage(w io.Writer, spec any) error {
	tw := tabwriter.NewWriter(w, 1, 0, 4, ' ', 0)
	if err := envconfig.Usagef("", spec, tw, envconfig.DefaultTableFormat); err != nil {
		return fmt.Errorf("config: usage: %w", err)
	}
	return tw.Flush()
}
