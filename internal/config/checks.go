package config

import (
	"fmt"
	"time"

	"github.com/coldmove/coldmove/ids"
)

// The checks below judge one variable's value, for [Var.Check]; each
// returns what is wrong in words that follow the variable's name, or "".

// Positive checks that a duration is above zero.
func Positive(d *time.Duration) func() string {
	return func() string {
		if *d <= 0 {
			return fmt.Sprintf("must be positive, not %s", *d)
		}
		return ""
	}
}

// AtLeast checks that a duration is at least min.
func AtLeast(d *time.Duration, min time.Duration) func() string {
	return func() string {
		if *d < min {
			return fmt.Sprintf("must be at least %s, not %s", min, *d)
		}
		return ""
	}
}

// Between checks that an integer is within [lo, hi]: a [Var] check for a
// binary's own variables too.
func Between(n *int, lo, hi int) func() string {
	return func() string {
		if *n < lo || *n > hi {
			return fmt.Sprintf("must be %d to %d, not %d", lo, hi, *n)
		}
		return ""
	}
}

// id checks a value against the rule of its kind of id.
func id(kind ids.Kind, s *string) func() string {
	return func() string {
		if !kind.Valid(*s) {
			return "must be " + kind.Rule()
		}
		return ""
	}
}

// name checks a value against a naming rule described by rule.
func name(s *string, valid func(string) bool, rule string) func() string {
	return func() string {
		if !valid(*s) {
			return fmt.Sprintf("%q must be %s", *s, rule)
		}
		return ""
	}
}
