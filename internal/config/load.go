package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/kelseyhightower/envconfig"
)

// Load reads every variable of s from the environment into its field. An
// unset variable leaves the field at its default; a required one that is
// unset is a problem. Every variable is read, and every variable's check
// and every check of s run, so that all problems are reported at once in
// one *[Error]; a variable that did not parse is not judged again.
func Load(s Spec) error {
	var ps []Problem
	bad := map[string]bool{}
	for _, v := range s.Vars {
		if p, ok := read(v); !ok {
			ps = append(ps, p)
			bad[v.Name] = true
		}
	}
	for _, v := range s.Vars {
		if bad[v.Name] || v.Check == nil {
			continue
		}
		if msg := v.Check(); msg != "" {
			ps = append(ps, Problem{Var: v.Name, Problem: msg})
			bad[v.Name] = true
		}
	}
	for _, check := range s.Checks {
		for _, p := range check() {
			if !bad[p.Var] {
				ps = append(ps, p)
				bad[p.Var] = true
			}
		}
	}
	if len(ps) > 0 {
		return &Error{Problems: ps}
	}
	return nil
}

// read sets one variable's field from the environment, with envconfig.
func read(v Var) (Problem, bool) {
	field := reflect.ValueOf(v.Value)
	if field.Kind() != reflect.Pointer || field.IsNil() {
		return Problem{Var: v.Name, Problem: fmt.Sprintf("internal error: value is %T, not a pointer to a field", v.Value)}, false
	}
	if _, set := os.LookupEnv(v.Name); !set {
		if v.Required {
			return Problem{Var: v.Name, Problem: "is required but not set"}, false
		}
		return Problem{}, true
	}
	// A struct holding just this field, read by envconfig: its error
	// concerns this variable alone.
	t := field.Elem().Type()
	one := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "V", Type: t, Tag: reflect.StructTag(fmt.Sprintf("envconfig:%q", v.Name)),
	}}))
	if err := envconfig.Process("", one.Interface()); err != nil {
		msg := fmt.Sprintf("cannot read as %s", typeName(t))
		var pe *envconfig.ParseError
		if errors.As(err, &pe) && !v.secret() {
			msg = fmt.Sprintf("cannot read %q as %s", pe.Value, typeName(t))
		}
		return Problem{Var: v.Name, Problem: msg}, false
	}
	field.Elem().Set(one.Elem().Field(0))
	return Problem{}, true
}
